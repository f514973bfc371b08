using System.Reactive.Disposables;

namespace RxHttp;

/// <summary>
/// What a request verb returns: a cold <see cref="IObservable{ClientResponse}"/> that sends the request once per
/// subscription, emits at most one response and completes; disposing the subscription before the response
/// arrives cancels the request. Every Rx operator applies as usual. The two most common uses, <c>await</c> and
/// <c>SelectMany(r => r.Text())</c>, are members here that behave exactly like Rx's (the last value, an
/// <see cref="InvalidOperationException"/> for an empty sequence; inner results, errors from either side), but
/// without the intermediate subjects and observers Rx's general versions build, which were a large share of a
/// request's allocations.
/// </summary>
public sealed class ResponseObservable : IObservable<ClientResponse>
{
    private readonly ClientSession _session;
    private readonly string _method;
    private readonly Url _url;
    private readonly RequestOptions _options;

    internal ResponseObservable(ClientSession session, string method, Url url, RequestOptions options)
    {
        _session = session;
        _method = method;
        _url = url;
        // Every subscription sends a seekable stream from where it stood now, not from where the last one left it.
        _options = StreamBodyStart.Pin(options);
    }

    /// <summary>
    /// Sends the request; a failure to build it (a URL that cannot be requested, conflicting options, closed session)
    /// goes to OnError. A URL string that does not parse at all (a CR or LF, a bad port) never gets here: it throws
    /// <see cref="InvalidUrl"/> from the verb call itself, where the string converts to a <see cref="Url"/>.
    /// While other requests of the session's pool are out, the request starts on the thread pool and Subscribe
    /// returns at once: operators such as <c>Merge(n)</c> and <c>Concat</c> subscribe under their own lock, and
    /// writing the request there held every other request's completion up. A lone request starts inline, and so does
    /// every request whose scheduler is a virtual-time one (a <c>TestScheduler</c>).
    /// </summary>
    public IDisposable Subscribe(IObserver<ClientResponse> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        // On a virtual clock every step must happen when the test advances it, not when a pool thread gets to it.
        if ((t_inlineDepth >= MaxInlineDepth || (_session.Connector.AnyOut && !AlwaysInline)) && !_session.IsVirtualClock(_options.Scheduler))
            return DeferredStart.Queue(this, observer);
        // A request that completes inside its Subscribe (a warm connection, a response already there) lets an
        // operator such as Concat subscribe the next one from its OnCompleted, still inside this call: a long chain
        // of those grows the stack by one request each until the process dies. Past a bound, the next starts on
        // the thread pool, with a fresh stack.
        t_inlineDepth++;
        try
        {
            return StartInline(observer);
        }
        finally
        {
            t_inlineDepth--;
        }
    }

    /// <summary>How many requests may start inside one another's Subscribe on one thread before one is deferred.</summary>
    internal const int MaxInlineDepth = 16;

    [ThreadStatic] private static int t_inlineDepth;

    /// <summary>The benchmark's switch back to the old behaviour, so both can be measured in the same rounds.</summary>
    internal static bool AlwaysInline { get; set; }

    // The caller waits for this request itself (await): nobody else's lock is held, and a hop would only add latency.
    internal IDisposable StartInline(IObserver<ClientResponse> observer) => _session.Send(_method, _url, _options, observer);

    /// <summary>Sends the request and awaits its response (as awaiting any observable: its last value).</summary>
    public ObservableAwaiter<ClientResponse> GetAwaiter() => ObservableAwaiter<ClientResponse>.Subscribe(this, static (s, o) => ((ResponseObservable)s).StartInline(o));

    /// <summary>
    /// Projects the response into an observable and flattens it, as Rx's <c>SelectMany</c>: the result emits what
    /// <paramref name="selector"/>'s observable emits and ends with it. If the selector throws, the response is
    /// released and the error is the result's.
    /// </summary>
    public ResponseProjection<TResult> SelectMany<TResult>(Func<ClientResponse, IObservable<TResult>> selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return new ResponseProjection<TResult>(this, selector);
    }
}

/// <summary>
/// <see cref="ResponseObservable.SelectMany{TResult}(Func{ClientResponse, IObservable{TResult}})"/>'s result: an
/// ordinary cold observable that can also be awaited directly.
/// </summary>
/// <typeparam name="TResult">What the selector's observable emits.</typeparam>
public sealed class ResponseProjection<TResult> : IObservable<TResult>
{
    private readonly ResponseObservable _source;
    private readonly Func<ClientResponse, IObservable<TResult>> _selector;

    internal ResponseProjection(ResponseObservable source, Func<ClientResponse, IObservable<TResult>> selector)
    {
        _source = source;
        _selector = selector;
    }

    /// <summary>Sends the request and subscribes to the selector's observable for its response.</summary>
    public IDisposable Subscribe(IObserver<TResult> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var sink = new Sink(_selector, observer);
        sink.SetOuter(_source.Subscribe(sink));
        return sink;
    }

    private IDisposable StartInline(IObserver<TResult> observer)
    {
        var sink = new Sink(_selector, observer);
        sink.SetOuter(_source.StartInline(sink));
        return sink;
    }

    /// <summary>Sends the request and awaits the projection's last value.</summary>
    public ObservableAwaiter<TResult> GetAwaiter() => ObservableAwaiter<TResult>.Subscribe(this, static (s, o) => ((ResponseProjection<TResult>)s).StartInline(o));

    // The source emits at most one response and completes right after it, so the inner observable can talk to
    // the downstream observer directly: it alone decides how the result ends.
    private sealed class Sink(Func<ClientResponse, IObservable<TResult>> selector, IObserver<TResult> observer) : IObserver<ClientResponse>, IDisposable
    {
        private static readonly IDisposable Disposed = Disposable.Empty;
        private IDisposable? _outer, _inner;
        private bool _projected;

        public void SetOuter(IDisposable outer)
        {
            if (Interlocked.CompareExchange(ref _outer, outer, null) is not null) outer.Dispose();
        }

        public void OnNext(ClientResponse response)
        {
            if (_projected || Volatile.Read(ref _inner) == Disposed)
            {
                response.Release();
                return;
            }
            _projected = true;
            IObservable<TResult> inner;
            try
            {
                inner = selector(response);
            }
            catch (Exception e)
            {
                response.Release();
                observer.OnError(e);
                return;
            }
            var subscription = inner.Subscribe(observer);
            if (Interlocked.CompareExchange(ref _inner, subscription, null) is not null) subscription.Dispose();
        }

        public void OnError(Exception error)
        {
            if (!_projected) observer.OnError(error);
        }

        public void OnCompleted()
        {
            if (!_projected) observer.OnCompleted();
        }

        public void Dispose()
        {
            Interlocked.Exchange(ref _outer, Disposed)?.Dispose();
            Interlocked.Exchange(ref _inner, Disposed)?.Dispose();
        }
    }
}
