using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;

namespace RxHttp;

public sealed partial class ClientSession
{
    /// <summary>
    /// A server-sent event stream that stays open, as a browser's <c>EventSource</c> (WHATWG HTML §9.2): a GET with
    /// <c>Accept: text/event-stream</c>, whose events come as <see cref="ClientResponse.Events"/> parses them. When
    /// the stream ends or the connection fails, it reconnects after the reconnection time (<see
    /// cref="EventSourceOptions.Retry"/>, then what the stream's <c>retry</c> field sets), on the request's scheduler, sending the
    /// last event ID as <c>Last-Event-ID</c> so the server can resume. A 204 response completes it (the server's way
    /// to say stop); any other status than 200 fails it with <see cref="ClientResponseError"/>, and a Content-Type
    /// other than <c>text/event-stream</c> with <see cref="ContentTypeError"/>, without reconnecting. Cold: each
    /// subscription opens its own stream; disposing closes it and cancels a pending reconnect.
    /// </summary>
    /// <param name="url">The stream's URL, relative to <see cref="BaseUrl"/> when relative.</param>
    /// <param name="options">Reconnection and request settings.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative <see cref="EventSourceOptions.Retry"/> or <see cref="EventSourceOptions.MaxReconnects"/>, or a <see cref="EventSourceOptions.MaxEventSize"/> under 1.</exception>
    /// <exception cref="ArgumentException"><see cref="EventSourceOptions.LastEventId"/> contains CR, LF or NUL.</exception>
    public IObservable<ServerSentEvent> EventSource(Url url, EventSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        options ??= new EventSourceOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Retry, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxEventSize, 1, nameof(options));
        if (options.MaxReconnects is < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxReconnects, "MaxReconnects cannot be negative.");
        ArgumentNullException.ThrowIfNull(options.LastEventId, nameof(options));
        // No stream can give such an ID (its lines end at CR and LF, and an id with NUL is ignored), and the header
        // cannot carry it: found only when the first request was built, it failed the subscription from inside
        // Subscribe, after States had heard Connecting and with no Closed to follow.
        if (options.LastEventId.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            throw new ArgumentException("LastEventId cannot contain CR, LF or NUL: no event stream ID does, and Last-Event-ID could not carry it.", nameof(options));
        return Observable.Create<ServerSentEvent>(observer => new EventSourceRun(this, url, options, observer).Start());
    }

    /// <summary>One subscription's stream: its last event ID, reconnection time, and the attempt or wait in progress.</summary>
    private sealed class EventSourceRun(ClientSession session, Url url, EventSourceOptions options, IObserver<ServerSentEvent> observer)
    {
        private readonly SerialDisposable _current = new();
        private readonly IScheduler _scheduler = options.Request?.Scheduler ?? session.Scheduler;
        private string _lastEventId = options.LastEventId;
        // Only what a stream's retry field set: an event's Retry is null until one does, as Events() gives it; the
        // wait falls back to options.Retry on its own. Seeding the parsers with options.Retry made every event of a
        // stream that never sent retry claim the option's 3 s as the stream's.
        private TimeSpan? _streamRetry;
        private int _fruitless; // reconnects in a row that brought no event

        private int _closed; // 1 once Closed was reported
        // States are reported by the attempt's thread (Connecting, Open, Waiting) and by the disposing one (Closed, then
        // the end): unserialised, Closed overlapped an Open still being delivered and a Waiting could follow the end.
        // Queued rather than locked, so disposing from inside a States observer cannot deadlock.
        private readonly AsyncLock _statesGate = new();

        public IDisposable Start()
        {
            Connect();
            return new CompositeDisposable(_current, Disposable.Create(Close));
        }

        private void Report(EventSourceState state)
        {
            if (options.States is not { } states) return;
            _statesGate.Wait(() =>
            {
                if (Volatile.Read(ref _closed) == 0) states.OnNext(state);
            });
        }

        private void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0 || options.States is not { } states) return;
            _statesGate.Wait(() =>
            {
                states.OnNext(EventSourceState.Closed);
                states.OnCompleted();
            });
        }

        private void Connect()
        {
            Report(EventSourceState.Connecting);
            var parser = new EventStreamParser(options.MaxEventSize, _lastEventId, _streamRetry);
            var stopped = false; // a 204: the server asks not to reconnect
            // Assigned before subscribing: an attempt that ends inside Subscribe replaces it with the wait.
            var attempt = new SingleAssignmentDisposable();
            _current.Disposable = attempt;
            attempt.Disposable = session.Get(url, RequestFor(_lastEventId))
                .SelectMany(response =>
                {
                    if (response.Status == 204)
                    {
                        response.Release();
                        stopped = true;
                        return Observable.Empty<ServerSentEvent>();
                    }
                    Check(response);
                    Report(EventSourceState.Open);
                    return StreamingObservable.From(ct => response.IterEvents(parser, ct), response.OnVirtualClock);
                })
                .Subscribe(
                    e =>
                    {
                        _fruitless = 0;
                        observer.OnNext(e);
                    },
                    error =>
                    {
                        Keep(parser);
                        if (Reconnectable(error) && MayReconnect()) Wait();
                        else
                        {
                            Close();
                            observer.OnError(error);
                        }
                    },
                    () =>
                    {
                        Keep(parser);
                        if (!stopped && MayReconnect()) Wait();
                        else
                        {
                            Close();
                            observer.OnCompleted();
                        }
                    });
        }

        private void Keep(EventStreamParser parser)
        {
            _lastEventId = parser.LastEventId;
            _streamRetry = parser.Retry;
        }

        private bool MayReconnect() => options.MaxReconnects is not { } most || _fruitless++ < most;

        private void Wait()
        {
            Report(EventSourceState.Waiting);
            // The wheel, not the scheduler directly: the server sets the retry, and may set it to years.
            _current.Disposable = Transport.TimerWheel.After(_scheduler, _streamRetry ?? options.Retry, Connect);
        }

        private RequestOptions RequestFor(string lastEventId)
        {
            var own = options.Request ?? new RequestOptions();
            var headers = own.Headers is null ? new HeaderCollection() : new HeaderCollection(own.Headers);
            if (!headers.Contains("Accept")) headers.Add("Accept", "text/event-stream");
            if (!headers.Contains("Cache-Control")) headers.Add("Cache-Control", "no-cache");
            headers.Remove("Last-Event-ID");
            if (lastEventId.Length > 0) headers.Add("Last-Event-ID", lastEventId);
            return own with { Headers = headers, Timeout = own.Timeout ?? session.Timeout with { Total = null } };
        }

        // Not 200, or not an event stream: the standard fails the source rather than reconnect to it.
        private static void Check(ClientResponse response)
        {
            if (response.Status != 200)
            {
                response.Release();
                throw new ClientResponseError(response.RequestInfo, response.History, response.Status,
                    $"An event stream needs a 200 response, not {response.Status} {response.Reason}", response.Headers);
            }
            if (!string.Equals(response.ContentType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                response.Release();
                throw new ContentTypeError(response.RequestInfo, response.History, response.Status,
                    $"An event stream needs Content-Type text/event-stream, not {response.ContentType}", response.Headers);
            }
        }

        // The network's failures reconnect, as a browser's do; the server's answers and RxHttp's own limits do not.
        private static bool Reconnectable(Exception error) => error switch
        {
            ClientSslError or ServerFingerprintMismatch or SessionClosedError => false,
            ClientPayloadTooLargeError or TextDecodeError => false,
            ClientConnectionError or ClientPayloadError => true,
            _ => false,
        };
    }
}
