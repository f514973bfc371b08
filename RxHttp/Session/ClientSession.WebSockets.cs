using System.Collections.Concurrent;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Text;
using RxHttp.Http1;
using RxHttp.WebSockets;

namespace RxHttp;

public sealed partial class ClientSession
{
    /// <summary>
    /// Opens a websocket (aiohttp's <c>ws_connect</c>). Cold: each subscription performs one handshake and yields
    /// one <see cref="ClientWebSocket"/>, then completes when that websocket is closed. The subscription owns the
    /// websocket: disposing it (before the handshake ends: cancels; after: starts the closing handshake) closes it.
    /// So <c>FirstAsync()</c>, <c>Take(1)</c> or <c>await</c> on this observable are not how to get a websocket to keep;
    /// use <see cref="WsConnectAsync(Url, WsConnectOptions?, CancellationToken)"/> for that, or compose: <c>session.WsConnect(url).SelectMany(ws =&gt; ws.Messages)</c>.
    /// </summary>
    /// <param name="url">A ws, wss, http or https URL, relative to <see cref="BaseUrl"/> when relative.</param>
    /// <param name="options">Handshake and websocket settings.</param>
    /// <exception cref="WsServerHandshakeError">The server did not accept the upgrade (through OnError).</exception>
    public IObservable<ClientWebSocket> WsConnect(Url url, WsConnectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        return Observable.Create<ClientWebSocket>(observer =>
        {
            ClientWebSocket? socket = null;
            var gate = new object();
            var disposed = false;
            var handshake = new SingleAssignmentDisposable();
            var closedSubscription = new SingleAssignmentDisposable();
            handshake.Disposable = RxAsync.FromAsync(ct => WsConnectAsync(url, options, ct), orphan: ws => ws.Abort()).Subscribe(
                ws =>
                {
                    lock (gate)
                    {
                        if (disposed)
                        {
                            ws.Abort();
                            return;
                        }
                        socket = ws;
                    }
                    observer.OnNext(ws);
                    closedSubscription.Disposable = ws.WhenClosed.Subscribe(_ => { }, observer.OnCompleted);
                },
                observer.OnError);
            return Disposable.Create(() =>
            {
                ClientWebSocket? toClose;
                lock (gate)
                {
                    disposed = true;
                    toClose = socket;
                }
                handshake.Dispose();
                closedSubscription.Dispose();
                toClose?.Dispose();
            });
        });
    }

    /// <summary>
    /// Opens a websocket and returns it; the caller closes it (<see cref="ClientWebSocket.Close(int, string?)"/>,
    /// <c>await using</c>). Cancelling the token abandons the handshake.
    /// </summary>
    /// <exception cref="WsServerHandshakeError">The server did not accept the upgrade.</exception>
    public async Task<ClientWebSocket> WsConnectAsync(Url url, WsConnectOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        options ??= new WsConnectOptions();
        if (options.Compress != 0 && options.Compress is < 9 or > 15)
            throw new ArgumentOutOfRangeException(nameof(options), options.Compress, "Compress must be 0 (off) or 9..15 window bits.");
        if (options.MaxMsgSize < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxMsgSize, "MaxMsgSize must be 0 (no limit) or positive.");
        if (options.MaxFrameSize < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxFrameSize, "MaxFrameSize must be 0 (no limit) or positive.");
        if (Closed) throw new SessionClosedError();

        var full = Url.JoinBase(BaseUrl, url);
        if (options.Params is not null) full = full.WithQuery(options.Params);
        full = full.WithoutFragment().RequireHttp(allowWebSocket: true);
        // The handshake's own Basic header took such a user as it was, and the server split it at the wrong ':'.
        BasicAuthOperator.RequireSendableUser(full, full.WithoutCredentials().ToString());
        var compress = options.Compress != 0 && WsDeflateOptions.IsSupported ? options.Compress : 0;
        var protocols = options.Protocols?.ToList() ?? new List<string>();
        var timeout = SessionOptions.Timeout;
        var scheduler = options.Scheduler ?? Scheduler;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timedOut = 0;
        using var totalTimer = ClientTimeout.Active(timeout.Total) is { } total
            // On the wheel, as a request's total deadline: Rx keeps cancelled absolute-time work queued until its
            // deadline, a dead 300 s entry per handshake.
            ? Transport.TimerWheel.For(scheduler).Schedule(Ceiling.Deadline(scheduler.Now, total, timeout.CeilThreshold), () =>
            {
                Volatile.Write(ref timedOut, 1);
                cts.Cancel();
            })
            : Disposable.Empty;
        // The handshake is a request to the trace stream, the ActivitySource and the Meter (aiohttp's ws_connect goes
        // through request(), HttpClient's ClientWebSocket through its DiagnosticsHandler).
        var trace = NewTracer(scheduler) is { } tracer ? new WsHandshakeTrace(tracer) : null;
        // Scoped to this method's flow, and set when null too, as the exchange does for a request: a hook the caller's
        // flow carries belongs to another request.
        ConnectorTrace.Current.Value = trace?.OnConnector;
        try
        {
            // aiohttp's ws_connect goes through request(), so a 3xx answer to the upgrade is followed like any redirect.
            var crossOrigin = false;
            var firstHost = full.Host;
            for (var hops = 0; ; hops++)
            {
                var wsKey = WsHandshake.NewKey();
                var headers = BuildWsHeaders(full, options, wsKey, protocols, compress, crossOrigin);
                if (!string.Equals(full.Host, firstHost, StringComparison.OrdinalIgnoreCase) && headers.Contains("Host"))
                {
                    // A caller's Host names the first host, as on HTTP redirects.
                    headers = headers.Clone();
                    headers.Remove("Host");
                    headers.MakeReadOnly();
                }
                if (CookieJar.Count > 0 && CookieJar.FilterCookies(full.WithoutCredentials().ToUri()) is { Count: > 0 } cookies)
                {
                    // Appended to an explicit Cookie header, as for HTTP requests (aiohttp merges both on ws_connect too).
                    headers = headers.Clone();
                    CookiesOperator.AppendCookieHeader(headers, cookies);
                    headers.MakeReadOnly();
                }
                var target = full.WithoutCredentials();
                if (trace is not null) headers = trace.StartHop(target, headers, scheduler);
                // The same proxy rules as HTTP requests: the option, else the session's, the connector's or the environment's.
                var proxy = options.Proxy is { } p ? new ProxySettings(p, options.ProxyAuth) : DefaultProxyFor(target);
                // ws:// through an http proxy tunnels as wss:// does (RFC 6455 §4.1, HttpClient too): squid and tinyproxy
                // drop the Upgrade of an absolute-form request (aiohttp sends that form, and fails through them).
                var connectionKey = proxy?.KeyFor(target, options.Tls) is { } viaProxy ? viaProxy with { Tunnel = true }
                    : new ConnectionKey(target.Host, target.Port, target.IsSecure, options.Tls);
                var info = new RequestInfo("GET", target, headers);
                for (var attempt = 0; ; attempt++)
                {
                    var connection = await _exchange.AcquireAsync(connectionKey, timeout, scheduler, cts.Token).ConfigureAwait(false);
                    connection.ChooseCompletions(allowInline: false);
                    var reused = connection.IsReused;
                    try
                    {
                        return await HandshakeAsync(connection, target, headers, info, wsKey, protocols, compress, options, scheduler, trace, cts.Token).ConfigureAwait(false);
                    }
                    catch (WsServerHandshakeError e) when (e.Status is 301 or 302 or 303 or 307 or 308 && e.Headers is { } answer && RedirectsOperator.LocationOf(answer) is { } location)
                    {
                        connection.Close();
                        trace?.Redirected();
                        if (hops >= SessionOptions.MaxRedirects)
                            throw new TooManyRedirects(info, Array.Empty<ClientResponse>(), e.Status, "Too many redirects during the websocket handshake", e.Headers);
                        var next = RedirectTarget(full, location, SessionOptions.RequoteRedirectUrl);
                        var sameOrigin = next.IsSameOrigin(full);
                        // URL credentials follow a same-origin hop whatever the Location's form, as on HTTP redirects.
                        if (sameOrigin) next = RedirectsOperator.WithSameOriginCredentials(next, full);
                        crossOrigin |= !sameOrigin;
                        full = next;
                        break;
                    }
                    catch (Exception e) when (attempt == 0 && connection.DroppedWhileIdle(e, reused))
                    {
                        // The handshake is a GET, retried as the exchange retries one: a keep-alive connection the
                        // server closed just as the upgrade went out failed ws_connect where a fresh one would not.
                        connection.Close();
                    }
                    catch
                    {
                        connection.Close();
                        throw;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (Volatile.Read(ref timedOut) != 0)
        {
            var error = new TotalTimeoutError($"Total timeout of {timeout.Total!.Value.TotalSeconds:0.###} s exceeded during the websocket handshake");
            trace?.Failed(error);
            throw error;
        }
        catch (Exception e) when (trace is not null)
        {
            trace.Failed(e);
            throw;
        }
    }

    // Location may use http(s); the upgrade continues as ws(s) on the same security level.
    private static Url RedirectTarget(Url current, string location, bool requote)
    {
        Url next;
        try
        {
            next = current.Join(Url.Parse(location, encoded: !requote)).WithoutFragment();
        }
        catch (InvalidUrl e)
        {
            throw new InvalidUrlRedirectClientError(location, e.Description);
        }
        var scheme = next.Scheme switch { "http" => "ws", "https" => "wss", var other => other };
        if (scheme is not ("ws" or "wss")) throw new NonHttpUrlRedirectClientError(location);
        if (scheme != next.Scheme) next = Url.Parse(scheme + next.ToString()[next.Scheme.Length..]);
        return next.RequireHttp(allowWebSocket: true);
    }

    private HeaderCollection BuildWsHeaders(Url full, WsConnectOptions options, string wsKey, List<string> protocols, int compress, bool crossOrigin)
    {
        var headers = _plans.DefaultHeadersWith(options.Headers);
        // As on HTTP redirects: the caller's Auth and credentials and cookies given as headers were for the first
        // origin; past a cross-origin hop only the Location's own credentials may speak for the new one, or an open
        // redirect to http://x:y@elsewhere/ would carry them off (the jar's cookies for the new origin are added later).
        if (crossOrigin) RedirectsOperator.DropCrossOrigin(headers);
        // The session's SkipAutoHeaders apply to the handshake too, as aiohttp's ws_connect goes through _request.
        var skip = _plans.MergedSkip(options.SkipAutoHeaders);
        if (skip?.Contains("User-Agent") != true) headers.SetDefault("User-Agent", SessionOptions.UserAgent);
        headers.Set("Upgrade", "websocket");
        headers.Set("Connection", "Upgrade");
        headers.Set("Sec-WebSocket-Version", "13");
        headers.Set("Sec-WebSocket-Key", wsKey);
        if (protocols.Count > 0) headers.Set("Sec-WebSocket-Protocol", string.Join(",", protocols));
        if (options.Origin is not null) headers.Set("Origin", options.Origin);
        if (compress != 0) headers.Set("Sec-WebSocket-Extensions", WsDeflateOptions.BuildOffer(compress));
        if (options.Auth is { } auth && !crossOrigin) headers.Set("Authorization", BasicAuthorization(auth.UserName, auth.Password));
        else if (full.User is not null && !headers.Contains("Authorization")) headers.Set("Authorization", BasicAuthorization(full.User, full.Password));
        return headers.MakeReadOnly();
    }

    private static string BasicAuthorization(string user, string? password) => BasicAuth.Header(user, password ?? "", Encoding.UTF8);

    private async Task<ClientWebSocket> HandshakeAsync(Connection connection, Url target, HeaderCollection headers, RequestInfo info, string wsKey,
        List<string> protocols, int compress, WsConnectOptions options, IScheduler scheduler, WsHandshakeTrace? trace, CancellationToken ct)
    {
        var timeout = SessionOptions.Timeout;
        var readTimer = ReadTimer.SockRead(timeout, scheduler);
        // Not a pooled connection's last request's: the handshake's head is written under this session's own.
        connection.WriteTimer = ReadTimer.SockRead(timeout, scheduler);
        var writer = connection.Writer;
        writer.Clear();
        var sent = new List<KeyValuePair<string, string>>(headers.Count + 1) { new("Host", headers.Get("Host") ?? target.HostHeader) };
        sent.AddRange(headers.Where(h => !h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)));
        HttpRequestWriter.WriteHead(writer, "GET", target.PathAndQuery, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sent));
        connection.ResponseStarted = false;
        await connection.WriteAsync(writer.WrittenMemory, ct).ConfigureAwait(false);
        trace?.HeadersSent(sent);

        var limits = _exchange.Limits;
        var head = new ResponseHeadBuilder();
        var reader = new ResponseHeadReader(head, limits);
        try
        {
            while (!reader.TryParse(connection.Buffered))
            {
                if (!reader.Received(await connection.FillAsync(readTimer, ct, reader.MaxBuffer).ConfigureAwait(false)))
                    throw new ServerDisconnectedError("Server disconnected during the websocket handshake");
                connection.ResponseStarted = true;
            }
        }
        catch (HttpParseException e)
        {
            throw new WsServerHandshakeError(info, 0, "Invalid handshake response: " + e.Message);
        }
        catch (Exception) when (connection.AbortReason is ClientError reason)
        {
            throw reason;
        }
        connection.Consume(reader.Consumed);
        var responseHeaders = head.Headers.MakeReadOnly();
        trace?.Answered(head.Status, head.Reason, head.Version, responseHeaders, info);
        // Before validation: a redirect's or a refusal's cookies are kept too, as aiohttp's request loop keeps every
        // response's, so the next hop sends what a 3xx set.
        if (responseHeaders.GetAll("Set-Cookie") is { Count: > 0 } setCookies) CookieJar.UpdateCookies(setCookies, target.ToUri());
        var (protocol, deflate) = WsHandshake.Validate(info, head.Status, head.Reason, responseHeaders, wsKey, protocols, compress);
        trace?.Connected();

        // The server may have sent frames right behind the 101 head; they belong to the frame reader.
        var socket = connection.Socket;
        var leftover = connection.TakeBuffered();
        var stream = connection.Detach();
        var ws = new ClientWebSocket(target, stream, socket, leftover, protocol, deflate, head.Status, responseHeaders, options,
            scheduler, Connector.Options.TimeoutCeilThreshold, _jsonSerialize) { JsonOptions = SessionOptions.JsonOptions ?? JsonDefaults.Web };
        Track(ws);
        return ws;
    }

    // The session's open websockets, which its end closes, as closing aiohttp's connector does. A set rather than a
    // subscription to WhenClosed each: Rx subjects copy their observer array on every subscribe and unsubscribe, which
    // with thousands of open websockets made each connect and close cost time in proportion to their number.
    private readonly ConcurrentDictionary<ClientWebSocket, byte> _websockets = new();

    private void Track(ClientWebSocket ws)
    {
        _websockets.TryAdd(ws, 0);
        ws.WhenClosed.Subscribe(_ => { }, () => _websockets.TryRemove(ws, out _));
        // A Close running meanwhile either saw it in the set or is seen here.
        Interlocked.MemoryBarrier();
        if (Closed) ws.Abort();
    }

    /// <summary>How many websockets the session will close at its end (tests).</summary>
    internal int TrackedWebSockets => _websockets.Count;

    private void AbortWebSockets()
    {
        foreach (var ws in _websockets.Keys) ws.Abort();
    }
}
