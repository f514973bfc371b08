using System.Runtime.CompilerServices;
using System.Reactive.Linq;
using System.Text.Json;
using RxHttp.Http1;

namespace RxHttp;

/// <summary>
/// One hop: acquire a connection, write the request (<see cref="RequestSender"/>), read the head, build the response
/// that owns the body. The only place where HTTP meets a connection; above it is the engine (<see cref="RequestCall"/>).
/// </summary>
internal sealed class Http1Exchange : IExchange
{
    private readonly BaseConnector _connector;
    private readonly System.Reactive.Concurrency.IScheduler _scheduler;
    private readonly HttpParserLimits _limits;

    /// <summary>The session's response-head limits, shared with websocket handshakes.</summary>
    internal HttpParserLimits Limits => _limits;
    private readonly JsonSerializerOptions _jsonOptions;

    /// <summary>The session's <see cref="ClientSessionOptions.FallbackCharsetResolver"/>, handed to every response.</summary>
    internal Func<ClientResponse, ReadOnlyMemory<byte>, System.Text.Encoding>? CharsetResolver { get; init; }

    public Http1Exchange(BaseConnector connector, System.Reactive.Concurrency.IScheduler scheduler, HttpParserLimits limits, JsonSerializerOptions jsonOptions)
    {
        _connector = connector;
        _scheduler = scheduler;
        _limits = limits;
        _jsonOptions = jsonOptions;
    }

    /// <summary>The innermost handler: a cold observable that sends <paramref name="request"/> once per subscription.</summary>
    public IObservable<ClientResponse> Send(ClientRequest request) =>
        RxAsync.FromAsync((Exchange: this, Request: request), static (s, ct) => s.Exchange.SendAsync(s.Request, ct).AsTask(), ReleaseOrphan);

    private static readonly Action<ClientResponse> ReleaseOrphan = static r => r.Release();

    /// <summary>The pool key of <paramref name="request"/>: direct, or through the proxy it names (<see cref="RequestPlan.Proxy"/>).</summary>
    public static ConnectionKey KeyFor(ClientRequest request) =>
        request.Plan.Proxy is { } proxy
            ? proxy.KeyFor(request.Url, request.Tls)
            : new(request.Url.Host, request.Url.Port, request.Url.IsSecure, request.Tls);

    /// <summary>
    /// As <see cref="KeyFor(ClientRequest)"/>, falling back to the session's proxy (its own, the connector's, or
    /// the environment's with TrustEnv) when the request names none.
    /// </summary>
    public ConnectionKey KeyForRequest(ClientRequest request)
    {
        if (request.Plan.Proxy is not null) return KeyFor(request);
        if (DefaultProxy?.Invoke(request.Url) is { } proxy) return proxy.KeyFor(request.Url, request.Tls);
        // Direct: a session mostly talks to one origin, so the last key is usually the one needed (one allocation
        // and, as the same instance, a cheaper equality check in the pool's dictionaries).
        var url = request.Url;
        var last = Volatile.Read(ref _lastDirectKey);
        if (last is not null && last.Port == url.Port && last.IsSsl == url.IsSecure && ReferenceEquals(last.Tls, request.Tls)
            && string.Equals(last.Host, url.Host, StringComparison.Ordinal))
            return last;
        var key = new ConnectionKey(url.Host, url.Port, url.IsSecure, request.Tls);
        Volatile.Write(ref _lastDirectKey, key);
        return key;
    }

    private ConnectionKey? _lastDirectKey;

    /// <summary>Where a response collected with its body still on the connection is closed and reported (set by the session).</summary>
    internal UnreleasedResponseGuard.Report? Unreleased { get; set; }

    /// <summary>The proxy for requests that name none (set by the session), or null for direct connections.</summary>
    internal Func<Url, ProxySettings?>? DefaultProxy { get; set; }

    /// <summary>Sends <paramref name="request"/> over a lease and returns its response once the head is read.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ClientResponse> SendAsync(ClientRequest request, CancellationToken ct)
    {
        var key = KeyForRequest(request);
        var tracer = request.Plan.Tracer;
        // Every timer of this request (Connect, SockConnect, SockRead and its body's reads) runs on its own clock.
        var scheduler = request.Scheduler ?? _scheduler;
        ConnectorTrace.Current.Value = tracer is null ? null : tracer.OnConnector;
        for (var attempt = 0; ; attempt++)
        {
            var connection = await AcquireAsync(key, request.Timeout, scheduler, ct).ConfigureAwait(false);
            connection.ChooseCompletions();
            var reused = connection.IsReused;
            try
            {
                var timeout = request.Timeout;
                var readTimer = ReadTimer.SockRead(timeout, scheduler);
                // Its own timer: a body held for 100 Continue is written while the head is read.
                connection.WriteTimer = ReadTimer.SockRead(timeout, scheduler);
                connection.ResponseStarted = false;
                var sent = await RequestSender.SendAsync(connection, request, tracer, ct).ConfigureAwait(false);
                var info = sent.Info;
                // A body whose write failed, or that the server's early answer cut short, was not all sent: whatever the
                // answer, the connection cannot carry another request.
                var writeError = sent.WriteError;
                var bodyHeld = sent.Framing.HoldBody || writeError is not null || sent.BodyCut;
                // The server's answer time, which decides whether the next lone request polls for its response.
                var sentAt = System.Diagnostics.Stopwatch.GetTimestamp();
                var awaiting = true;

                // The head, after any 1xx informational ones (100 Continue, 103 Early Hints; 101 is final). Read here
                // rather than in a method of its own: each response then resumes one state machine fewer.
                var head = connection.HeadBuilder;
                // Held for 100 Continue, the body goes anyway once the wait is over, while the head is still awaited.
                var awaitingContinue = sent.Framing.HoldBody;
                // Held and then never started: a final answer came first, so even a one-shot body is still whole.
                var bodyUnsent = sent.Framing.HoldBody;
                var held = awaitingContinue && request.Plan.Expect100Timeout != Timeout.InfiniteTimeSpan
                    ? new HeldBody(connection, request, sent, tracer, scheduler, request.Plan.Expect100Timeout, ct)
                    : null;
                try
                {
                    do
                    {
                        head.Reset();
                        var reader = new ResponseHeadReader(head, _limits);
                        while (!reader.TryParse(connection.Buffered))
                        {
                            var n = await connection.FillAsync(readTimer, ct, reader.MaxBuffer, awaiting).ConfigureAwait(false);
                            if (awaiting)
                            {
                                awaiting = false;
                                connection.NoteAnswerTime(System.Diagnostics.Stopwatch.GetTimestamp() - sentAt);
                            }
                            if (!reader.Received(n))
                            {
                                throw reader.Started
                                    ? new ClientResponseError(info, null, 400, "Server disconnected in the middle of the response head")
                                    : new ServerDisconnectedError("Server disconnected");
                            }
                            connection.ResponseStarted = true;
                        }
                        connection.ResponseStarted = true;
                        connection.Consume(reader.Consumed);
                        if (awaitingContinue && (head.Status == 100 || head.Status >= 200 || head.Status == 101))
                        {
                            awaitingContinue = false;
                            if (held is not null && !held.TryClaim())
                            {
                                bodyUnsent = false;
                                // The wait ran out first and the body went on its own; how it ended decides whether
                                // the connection can carry another request. A final answer that closes it stops the body.
                                if (head.Status != 100 && !HttpFraming.IsKeepAlive(head.Major, head.Minor, head.Headers.Values("Connection")))
                                    held.CutShort();
                                try
                                {
                                    bodyHeld = !await held.Sending.ConfigureAwait(false);
                                }
                                catch (Exception e) when (head.Status != 100 && (e is ClientOSError || e is OperationCanceledException && !ct.IsCancellationRequested))
                                {
                                    // A final answer, then a reset or the cut: the answer stands, and the connection closes after it.
                                }
                            }
                            else if (head.Status == 100)
                            {
                                bodyUnsent = false;
                                bodyHeld = !await RequestSender.SendBodyAsync(connection, request, sent, headSent: true, tracer, ct).ConfigureAwait(false);
                            }
                            held = null;
                        }
                    } while (head.Status is >= 100 and < 200 && head.Status != 101);
                }
                catch (Exception) when (writeError is not null && !ct.IsCancellationRequested)
                {
                    // No whole answer came before the reset: the failed write is what happened.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(writeError);
                }
                catch (Exception) when (held is not null)
                {
                    held.Abandon();
                    // The body the timer started failed and ended the wait for the head: its error is what happened.
                    if (held.BodyError is { } bodyError) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(bodyError);
                    throw;
                }

                return BuildResponse(request, connection, head, info, bodyHeld, bodyUnsent, readTimer, tracer);
            }
            catch (Exception e) when (attempt == 0 && request.IsIdempotent && (request.Body is null || request.Body.IsReplayable)
                                      && connection.DroppedWhileIdle(e, reused))
            {
                // A keep-alive connection the server closed while we picked it: aiohttp retries once on a fresh one.
                connection.Close(owned: true);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                connection.Close(owned: true);
                throw;
            }
            catch (Exception e)
            {
                connection.Close(owned: true);
                if (connection.AbortReason is ClientError reason) throw reason;
                if (e is HttpParseException pe) throw new ClientResponseError(Info(request), null, 400, pe.Message, inner: pe);
                throw;
            }
        }
    }

    /// <summary>
    /// The response to a final head: how its body is framed, whether the connection stays open after it, and the
    /// body reader that owns the connection from here on. <paramref name="bodyHeld"/>: a body announced with
    /// Expect: 100-continue that never went out. <paramref name="bodyUnsent"/>: none of it went out, nor was any of it read.
    /// </summary>
    private ClientResponse BuildResponse(ClientRequest request, Connection connection, ResponseHeadBuilder head, RequestInfo info, bool bodyHeld,
        bool bodyUnsent, ReadTimer? readTimer, RequestTracer? tracer)
    {
        var headers = head.Headers;
        var transferEncoding = headers.Values("Transfer-Encoding");
        var framing = HttpFraming.Decide(request.Method, head.Status, transferEncoding, headers.Values("Content-Length"), out var length);
        // aiohttp's read_until_eof=False: a body that would run until close is taken as empty; the connection
        // still closes below (UntilClose framing is never kept alive), since what follows cannot be framed.
        var untilClose = framing == BodyFraming.UntilClose;
        if (untilClose && !request.ReadUntilEof) framing = BodyFraming.None;
        // A final answer to Expect: 100-continue leaves the announced body unsent: the connection cannot carry
        // another request, since the server may still be waiting for (or skipping) those bytes.
        // A request that said "Connection: close" is the last on its connection whatever the answer says (RFC 9112 §9.6).
        // Transfer-Encoding in an HTTP/1.0 answer is faulty framing: read as it says, then closed (RFC 9112 §6.1).
        // A 2xx to CONNECT turns the connection into a tunnel, as a 101 hands it to another protocol (RFC 9110 §9.3.6):
        // pooled, the next request would go down the tunnel; the caller takes it with Connection.Detach().
        var switched = head.Status == 101 || (head.Status is >= 200 and < 300 && request.Method == "CONNECT");
        var keepAlive = HttpFraming.IsKeepAlive(head.Major, head.Minor, headers.Values("Connection")) && !untilClose && !switched && !bodyHeld
                        && HttpFraming.IsKeepAlive(1, 1, request.Headers.Values("Connection"))
                        && !(transferEncoding.Count > 0 && head.Major == 1 && head.Minor == 0);
        connection.KeepAlive = keepAlive;
        connection.ServerKeepAlive = HttpFraming.KeepAliveTimeout(headers.Get("Keep-Alive"));
        connection.RequestCount++;

        ResponseBody? body = null;
        if (!switched)
        {
            // Not taken with the head: a body kept streaming, or one a buffered read will refuse anyway.
            var takeMax = request.StreamResponse ? -1 : request.MaxBodySize > 0 ? Math.Min(request.MaxBodySize, ResponseBody.TakeWithHeadMax) : ResponseBody.TakeWithHeadMax;
            body = new ResponseBody(connection, framing, length, readTimer, _limits, keepAlive, takeMax);
        }
        // Codings besides chunked (which a server may apply only when asked, so rarely) are framing, undone always.
        var transferCodings = framing is BodyFraming.Chunked or BodyFraming.UntilClose && transferEncoding.Count > 0 ? HttpFraming.TransferCodings(transferEncoding) : null;
        return new ClientResponse(head.Status, head.Reason, head.Version, headers, info,
            connection, body, request.AutoDecompress, _jsonOptions, Unreleased, transferCodings)
        {
            Tracer = tracer,
            MaxBodySize = request.MaxBodySize,
            CharsetResolver = CharsetResolver,
            ReadBufferSize = request.ReadBufferSize,
            RawExceptions = head.TakeRawExceptions(),
            RequestBodyUnsent = bodyUnsent,
            Clock = request.Scheduler,
        };
    }

    /// <summary>
    /// A lease for <paramref name="key"/> under the Connect and SockConnect timeouts, both on the request's
    /// <paramref name="scheduler"/>; websocket handshakes use it too.
    /// </summary>
    /// <remarks>
    /// Every lease is probed (<see cref="Connection.TryProbeTls"/>): over TLS, bytes no request asked for can sit in
    /// an idle connection's SslStream, where the pool does not see them. Such a lease is closed and another taken;
    /// nothing was sent on it, so any request may go on, as it would have had the pool seen them.
    /// </remarks>
    internal ValueTask<Connection> AcquireAsync(ConnectionKey key, ClientTimeout timeout, System.Reactive.Concurrency.IScheduler scheduler, CancellationToken ct)
    {
        // Set in the caller's async flow (both callers are async methods, which restore their own caller's context), so
        // the writes that follow carry the request's clock to a stream that wants it. Only there: setting an async-local
        // copies the execution context, which a socket's request has no use for.
        if (_connector is StreamConnector) StreamConnector.NoteRequestScheduler(scheduler);
        if (_connector.TryLeaseIdle(key) is { } idle)
        {
            if (idle.TryProbeTls()) return new ValueTask<Connection>(idle);
            idle.Close(owned: true);
        }
        return AcquireProbedAsync(key, timeout, scheduler, ct);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Connection> AcquireProbedAsync(ConnectionKey key, ClientTimeout timeout, System.Reactive.Concurrency.IScheduler scheduler, CancellationToken ct)
    {
        while (true)
        {
            var lease = await AcquireSlowAsync(key, timeout, scheduler, ct).ConfigureAwait(false);
            if (lease.TryProbeTls()) return lease;
            lease.Close(owned: true);
        }
    }

    // Apart from the fast path: its timeout lambda captures the key, and a captured parameter costs its closure at
    // the method's entry, on every request, even those that took an idle connection.
    private ValueTask<Connection> AcquireSlowAsync(ConnectionKey key, ClientTimeout timeout, System.Reactive.Concurrency.IScheduler scheduler, CancellationToken ct)
    {
        var source = _connector.Connect(key, timeout, scheduler);
        if (ClientTimeout.Active(timeout.Connect) is { } connect)
        {
            var due = Ceiling.Deadline(scheduler.Now, connect, timeout.CeilThreshold);
            source = new LeaseDeadline(source, due, scheduler, () => new ConnectionTimeoutError($"Connection timeout to host {key.Host}:{key.Port}"));
        }
        return LeaseBridge.FirstLeaseValueAsync(source, ct, inline: Transport.TimerWheel.IsVirtualTime(scheduler));
    }

    internal static RequestInfo Info(ClientRequest request) => new(request.Method, request.Url, request.Headers) { RealUrl = request.OriginalUrl };
}
