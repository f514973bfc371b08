using System.Runtime.CompilerServices;
using System.Buffers;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Text;
using System.Text.Json;
using RxHttp.Http1;

namespace RxHttp;

/// <summary>
/// One hop: lease a connection, write the request, read the head, hand the body to the response. The only
/// place where HTTP meets a connection; everything above it is Rx operators over <see cref="RequestHandler"/>.
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
            // The exchange is written inline rather than as a method of its own: each response then resumes one
            // state machine fewer.
            try
            {
                var timeout = request.Timeout;
                var readTimer = ClientTimeout.Active(timeout.SockRead) is { } sr ? new ReadTimer(scheduler, sr, timeout.CeilThreshold) : null;
                connection.ResponseStarted = false;
                var sent = await WriteRequestAsync(connection, request, tracer, ct).ConfigureAwait(false);
                var info = sent.Info;
                var bodyHeld = sent.BodyHeld;
                // The server's answer time, which decides whether the next lone request polls for its response.
                var sentAt = System.Diagnostics.Stopwatch.GetTimestamp();
                var awaiting = true;

                var head = connection.HeadBuilder;
                head.Reset();
                while (true)
                {
                    int consumed;
                    while (!HttpResponseParser.TryParseHead(connection.Buffered, head, _limits, out consumed))
                    {
                        var n = await connection.FillAsync(readTimer, ct, _limits.MaxHeadBuffer, awaiting).ConfigureAwait(false);
                        if (awaiting)
                        {
                            awaiting = false;
                            connection.NoteAnswerTime(System.Diagnostics.Stopwatch.GetTimestamp() - sentAt);
                        }
                        if (n == 0)
                        {
                            throw connection.BufferedCount == 0
                                ? new ServerDisconnectedError("Server disconnected")
                                : new ClientResponseError(info, null, 400, "Server disconnected in the middle of the response head");
                        }
                        connection.ResponseStarted = true;
                    }
                    connection.ResponseStarted = true;
                    connection.Consume(consumed);
                    // 1xx informational responses (100 Continue, 103 Early Hints) precede the real one; 101 is final.
                    if (head.Status is >= 100 and < 200 && head.Status != 101)
                    {
                        if (head.Status == 100 && bodyHeld)
                        {
                            bodyHeld = false;
                            await WriteBodyAsync(connection, request, sent, headSent: true, tracer, ct).ConfigureAwait(false);
                        }
                        head.Reset();
                        continue;
                    }
                    break;
                }

                var headers = head.Headers;
                var framing = HttpFraming.Decide(request.Method, head.Status, headers.GetAll("Transfer-Encoding"), headers.GetAll("Content-Length"), out var length);
                // aiohttp's read_until_eof=False: a body that would run until close is taken as empty; the connection
                // still closes below (UntilClose framing is never kept alive), since what follows cannot be framed.
                var untilClose = framing == BodyFraming.UntilClose;
                if (untilClose && !request.ReadUntilEof) framing = BodyFraming.None;
                // A final answer to Expect: 100-continue leaves the announced body unsent: the connection cannot carry
                // another request, since the server may still be waiting for (or skipping) those bytes.
                var keepAlive = HttpFraming.IsKeepAlive(head.Major, head.Minor, headers.GetAll("Connection")) && !untilClose && head.Status != 101 && !bodyHeld;
                connection.KeepAlive = keepAlive;
                connection.ServerKeepAlive = ParseKeepAliveTimeout(headers.Get("Keep-Alive"));
                connection.RequestCount++;

                ResponseBody? body = null;
                if (head.Status != 101)
                {
                    // Not taken with the head: a body kept streaming, or one a buffered read will refuse anyway.
                    var takeMax = request.StreamResponse ? -1 : request.MaxBodySize > 0 ? Math.Min(request.MaxBodySize, ResponseBody.TakeWithHeadMax) : ResponseBody.TakeWithHeadMax;
                    body = new ResponseBody(connection, framing, length, readTimer, _limits, keepAlive, takeMax);
                }
                return new ClientResponse(head.Status, head.Reason, head.Version, headers, info,
                    connection, body, request.AutoDecompress, _jsonOptions, Unreleased)
                {
                    Tracer = tracer,
                    MaxBodySize = request.MaxBodySize,
                    CharsetResolver = CharsetResolver,
                    ReadBufferSize = request.ReadBufferSize,
                    RawExceptions = head.TakeRawExceptions(),
                };
            }
            catch (Exception e) when (attempt == 0 && reused && !connection.ResponseStarted && request.IsIdempotent
                                      && (request.Body is null || request.Body.IsReplayable)
                                      && e is ServerDisconnectedError or ClientOSError && connection.AbortReason is null)
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
    /// A lease for <paramref name="key"/> under the Connect and SockConnect timeouts, both on the request's
    /// <paramref name="scheduler"/>; websocket handshakes use it too.
    /// </summary>
    internal ValueTask<Connection> AcquireAsync(ConnectionKey key, ClientTimeout timeout, System.Reactive.Concurrency.IScheduler scheduler, CancellationToken ct)
    {
        if (_connector.TryLeaseIdle(key) is { } idle) return new ValueTask<Connection>(idle);
        var source = _connector.Connect(key, timeout, scheduler);
        if (ClientTimeout.Active(timeout.Connect) is { } connect)
        {
            var due = Ceiling.Deadline(scheduler.Now, connect, timeout.CeilThreshold);
            source = source.Timeout(due, Observable.Throw<Connection>(new ConnectionTimeoutError($"Connection timeout to host {key.Host}:{key.Port}")), scheduler);
        }
        return RxAsync.FirstLeaseValueAsync(source, ct, inline: Transport.TimerWheel.IsVirtualTime(scheduler));
    }

    private static TimeSpan? ParseKeepAliveTimeout(string? value)
    {
        if (value is null) return null;
        foreach (var part in value.Split(','))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length == 2 && kv[0].Equals("timeout", StringComparison.OrdinalIgnoreCase) && int.TryParse(kv[1], out var s) && s >= 0)
                return TimeSpan.FromSeconds(s);
        }
        return null;
    }

    // A body this small goes out in one write with its head (one syscall, one TCP segment for most requests).
    internal static readonly int SmallBody = 16 * 1024;

    /// <summary>What went out in the head: the request as sent, how the body is framed, and whether it is held for 100 Continue.</summary>
    private readonly record struct SentHead(RequestInfo Info, bool Chunked, long? DeclaredLength, bool BodyHeld);

    /// <summary>Writes the head and, unless it waits for 100 Continue, the body.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<SentHead> WriteRequestAsync(Connection connection, ClientRequest request, RequestTracer? tracer, CancellationToken ct)
    {
        var body = request.Body;
        var writer = connection.Writer;
        var host = request.Headers.Get("Host") ?? request.Url.HostHeader;
        if (body is null && !connection.Key.IsAbsoluteForm && NeedsNoLength(request))
        {
            // Nothing to add but Host: the request's own headers go out as they are, and its RequestInfo keeps
            // them rather than a copy (the usual GET).
            writer.Clear();
            HttpRequestWriter.WriteHead(writer, request.Method, request.Url.PathAndQuery, host, request.Headers.Span);
            var info = new RequestInfo(request.Method, request.Url, host, request.Headers) { RealUrl = request.OriginalUrl };
            await connection.WriteAsync(writer.WrittenMemory, ct).ConfigureAwait(false);
            tracer?.Emit(TraceEventKind.RequestHeadersSent, request, headers: info.Headers);
            return new SentHead(info, false, null, false);
        }

        var headers = HeaderCollection.HostFirst(host, request.Headers.Span, extra: 2);
        var chunked = false;
        long? declared = null;
        var expect100 = false;
        if (body is not null)
        {
            if (body.ContentType is { } type && !headers.Contains("Content-Type") && !request.Plan.SkipContentType) headers.AddUnchecked("Content-Type", type);
            if (headers.Get("Transfer-Encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                chunked = true;
                headers.Remove("Content-Length");
            }
            else if (request.Chunked || body.Length is null)
            {
                chunked = true;
                headers.Remove("Content-Length");
                headers.AddUnchecked("Transfer-Encoding", "chunked");
            }
            else if (headers.Get("Content-Length") is { } explicitLength)
            {
                declared = long.TryParse(explicitLength, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var l) ? l : null;
            }
            else
            {
                declared = body.Length!.Value;
                headers.AddUnchecked("Content-Length", declared.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            // As aiohttp: expect100=True adds the header, and a caller's own "Expect: 100-continue" also waits.
            if (request.Plan.Expect100 && !headers.Contains("Expect")) headers.AddUnchecked("Expect", "100-continue");
            expect100 = headers.Get("Expect") is { } expect && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase);
        }
        else if (!NeedsNoLength(request))
        {
            headers.AddUnchecked("Content-Length", "0");
        }

        // Plain http through a proxy: the absolute-form target (RFC 9112 §3.2.2) and the proxy's own headers.
        var target = request.Url.PathAndQuery;
        if (connection.Key.IsAbsoluteForm)
        {
            target = request.Url.ToString();
            foreach (var (name, value) in connection.Key.ProxyHeaderPairs())
                if (!headers.Contains(name)) headers.AddUnchecked(name, value);
            if (connection.Key.ProxyAuth is { } proxyAuth && !headers.Contains("Proxy-Authorization")) headers.AddUnchecked("Proxy-Authorization", proxyAuth);
        }

        writer.Clear();
        HttpRequestWriter.WriteHead(writer, request.Method, target, headers.Span);
        var sent = new SentHead(new RequestInfo(request.Method, request.Url, headers.MakeReadOnly()) { RealUrl = request.OriginalUrl }, chunked, declared, expect100);
        if (body is null || expect100)
        {
            await connection.WriteAsync(writer.WrittenMemory, ct).ConfigureAwait(false);
            tracer?.Emit(TraceEventKind.RequestHeadersSent, request, headers: headers);
        }
        else if (body is BytesPayload { Data.Length: var len } small && len <= SmallBody && !chunked && declared == len)
        {
            // Head and a small body leave in one send: one syscall, one TCP segment for typical API calls.
            small.Data.Span.CopyTo(writer.GetSpan(len));
            writer.Advance(len);
            await connection.WriteAsync(writer.WrittenMemory, ct).ConfigureAwait(false);
            tracer?.Emit(TraceEventKind.RequestHeadersSent, request, headers: headers);
            if (len > 0) tracer?.Emit(TraceEventKind.RequestChunkSent, request, chunk: len);
            Progress(request)?.OnNext(new TransferProgress(len, len));
        }
        else
        {
            await WriteBodyAsync(connection, request, sent, headSent: false, tracer, ct).ConfigureAwait(false);
        }
        return sent;
    }

    private static async Task WriteBodyAsync(Connection connection, ClientRequest request, SentHead sent, bool headSent, RequestTracer? tracer, CancellationToken ct)
    {
        if (headSent) connection.Writer.Clear();
        Action? onHead = tracer is null ? null : () => tracer.Emit(TraceEventKind.RequestHeadersSent, request, headers: sent.Info.Headers);
        Action<int>? onChunk = tracer is null ? null : n => tracer.Emit(TraceEventKind.RequestChunkSent, request, chunk: n);
        var bodyWriter = new ConnectionPayloadWriter(connection, sent.Chunked, connection.Writer, sent.DeclaredLength, Progress(request), headSent, onHead, onChunk);
        await request.Body!.WriteToAsync(bodyWriter, ct).ConfigureAwait(false);
        await bodyWriter.CompleteAsync(ct).ConfigureAwait(false);
    }

    // A bodiless request whose method implies no body, or whose headers already frame it, needs no Content-Length: 0.
    private static bool NeedsNoLength(ClientRequest request) =>
        request.Method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "CONNECT" || request.Headers.Contains("Content-Length") || request.Headers.Contains("Transfer-Encoding");

    private static IObserver<TransferProgress>? Progress(ClientRequest request) => request.Plan.UploadProgress;

    internal static RequestInfo Info(ClientRequest request) => new(request.Method, request.Url, request.Headers) { RealUrl = request.OriginalUrl };
}
