using System.Net.Sockets;
using System.Reactive.Concurrency;
using System.Security.Authentication;

namespace RxHttp.Testing;

/// <summary>
/// A scripted HTTP/1.1 and websocket server behind a real <see cref="ClientSession"/>, with no socket: RxHttp's
/// <see cref="StreamConnector"/> opens in-memory connections to it, so the pool, the parser, redirects, cookies, auth,
/// timeouts, raise-for-status, decompression and your own retries run exactly as over the network. Script responses
/// with <see cref="When(string, string)"/>, make the session with <see cref="CreateSession"/>, drive time with the
/// session's scheduler (Microsoft.Reactive.Testing's <c>TestScheduler</c>), and check what was sent with
/// <see cref="ShouldHaveCalled"/>. Every delay runs on the clock of the request it answers (its
/// <see cref="RequestOptions.Scheduler"/>, else its session's); a response with no delay is complete when <c>Subscribe</c> returns. A request no script answers fails with <see cref="UnscriptedRequestException"/>.
/// </summary>
/// <example><code>
/// var scheduler = new TestScheduler();
/// using var http = new FakeHttp();
/// http.When("GET", "https://api.example.com/items/*").RespondJson(new { id = 1 });
/// using var session = http.CreateSession(scheduler);
/// var item = await session.Get("https://api.example.com/items/1").SelectMany(r =&gt; r.Json&lt;Item&gt;());
/// http.ShouldHaveCalled("https://api.example.com/items/*").WithVerb("GET").Times(1);
/// </code></example>
public sealed class FakeHttp : IDisposable
{
    private readonly object _gate = new();
    private readonly List<FakeRoute> _routes = new();
    private readonly List<(FakeRoute Route, FakeWebSocketScript Script)> _webSockets = new();
    private readonly List<FakeCall> _calls = new();
    private readonly List<FakeWebSocketSession> _sessions = new();

    /// <summary>Creates the fake server and its connector (<paramref name="options"/>: pool limits, keep-alive; leave their scheduler unset).</summary>
    public FakeHttp(ConnectorOptions? options = null)
    {
        Connector = new StreamConnector(OpenAsync, options);
    }

    /// <summary>
    /// The connector to put in your own <see cref="ClientSessionOptions"/> (<c>Connector = http.Connector,
    /// ConnectorOwner = false</c>). Each scripted delay runs on the clock the request it answers runs on (its
    /// <see cref="RequestOptions.Scheduler"/> or <see cref="WsConnectOptions.Scheduler"/>, else its session's), so
    /// several sessions on clocks of their own can share one fake.
    /// </summary>
    public StreamConnector Connector { get; }

    /// <summary>How many connections the client opened.</summary>
    public int ConnectionsOpened { get; private set; }

    /// <summary>Every request received, in order.</summary>
    public IReadOnlyList<FakeCall> Calls
    {
        get { lock (_gate) return _calls.ToList(); }
    }

    /// <summary>Every scripted websocket session opened, in order.</summary>
    public IReadOnlyList<FakeWebSocketSession> WebSockets
    {
        get { lock (_gate) return _sessions.ToList(); }
    }

    /// <summary>
    /// A session on this fake with <paramref name="scheduler"/> as its clock (null: the default scheduler), and
    /// optionally <paramref name="timeout"/>. Disposing the session leaves the fake usable by another one.
    /// </summary>
    public ClientSession CreateSession(IScheduler? scheduler = null, ClientTimeout? timeout = null) =>
        new(new ClientSessionOptions
        {
            Connector = Connector,
            ConnectorOwner = false,
            Scheduler = scheduler,
            Timeout = timeout ?? ClientTimeout.Default,
        });

    /// <summary>Scripts requests with <paramref name="method"/> to URLs matching <paramref name="urlPattern"/> (<c>*</c>: any run of characters).</summary>
    /// <exception cref="ArgumentException">The pattern is not an absolute URL pattern, or an earlier script already answers every such request.</exception>
    public FakeRoute When(string method, string urlPattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        if (method.Any(c => c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".Contains(c)))
            throw new ArgumentException($"\"{method}\" is not an HTTP method, so the script could never match.", nameof(method));
        UrlPattern.Validate(urlPattern, nameof(urlPattern));
        return Add(new FakeRoute(method.ToUpperInvariant(), urlPattern, null));
    }

    /// <summary>Scripts requests of any method to URLs matching <paramref name="urlPattern"/>.</summary>
    public FakeRoute When(string urlPattern)
    {
        UrlPattern.Validate(urlPattern, nameof(urlPattern));
        return Add(new FakeRoute(null, urlPattern, null));
    }

    /// <summary>Scripts the requests for which <paramref name="predicate"/> is true (its exceptions fail the request).</summary>
    public FakeRoute When(Func<FakeCall, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return Add(new FakeRoute(null, null, predicate));
    }

    /// <summary>Scripts websocket connections to URLs matching <paramref name="urlPattern"/> (ws:// or wss://) with <paramref name="script"/>.</summary>
    public FakeWebSocketScript WhenWebSocket(string urlPattern, FakeWebSocketScript? script = null)
    {
        UrlPattern.Validate(urlPattern, nameof(urlPattern));
        if (urlPattern.StartsWith("http", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"The websocket pattern \"{urlPattern}\" can never match: websocket URLs start with ws:// or wss://.", nameof(urlPattern));
        script ??= new FakeWebSocketScript();
        lock (_gate) _webSockets.Add((new FakeRoute("GET", urlPattern, null), script));
        return script;
    }

    /// <summary>Asserts that at least one request matched <paramref name="urlPattern"/> (null or <c>*</c>: any); narrow it down with the result.</summary>
    /// <exception cref="HttpCallAssertionException">No such call; the message lists the calls made.</exception>
    public CallAssertion ShouldHaveCalled(string? urlPattern = null) => new CallAssertion(Calls, urlPattern).Assert();

    /// <summary>Asserts that no request matched <paramref name="urlPattern"/>.</summary>
    public void ShouldNotHaveCalled(string urlPattern) => new CallAssertion(Calls, urlPattern).Times(0);

    /// <summary>Asserts that no request at all was made.</summary>
    public void ShouldNotHaveMadeAnyCalls() => new CallAssertion(Calls, null).Times(0);

    /// <summary>Closes every connection the fake holds.</summary>
    public void Dispose() => Connector.Dispose();

    private FakeRoute Add(FakeRoute route)
    {
        lock (_gate)
        {
            // A later script that an earlier one always pre-empts can never answer anything.
            if (route.Predicate is null && _routes.FirstOrDefault(r => r.Predicate is null && r.Pattern == route.Pattern
                    && (r.Method is null || r.Method == route.Method)) is { } shadow)
                throw new ArgumentException($"The script for {route} can never match: the earlier script for {shadow} answers every such request (give that one several responses instead: Respond(a).Respond(b)).");
            _routes.Add(route);
        }
        return route;
    }

    private ValueTask<Stream> OpenAsync(ConnectionKey key, CancellationToken ct)
    {
        FakeResponse? fault;
        lock (_gate)
        {
            var route = _routes.FirstOrDefault(r => r.Peek() is { IsConnectFault: true } && r.MayTarget(key));
            fault = route?.Take();
            ConnectionsOpened += fault is null ? 1 : 0;
        }
        switch (fault?.Fault)
        {
            case FakeFault.ConnectionRefused:
                return ValueTask.FromException<Stream>(new SocketException((int)SocketError.ConnectionRefused));
            case FakeFault.DnsFailure:
                return ValueTask.FromException<Stream>(new SocketException((int)SocketError.HostNotFound));
            case FakeFault.TlsFailure:
                return ValueTask.FromException<Stream>(new AuthenticationException("The remote certificate is invalid according to the validation procedure."));
            case FakeFault.ConnectStall:
                var stalled = new TaskCompletionSource<Stream>();
                ct.UnsafeRegister(static (s, token) => Inline.Run(() => ((TaskCompletionSource<Stream>)s!).TrySetCanceled(token)), stalled);
                return new ValueTask<Stream>(stalled.Task);
        }
        return new ValueTask<Stream>(new FakeServerConnection(this, key).Stream);
    }

    internal void Handle(FakeServerConnection connection, FakeCall call)
    {
        FakeResponse? response = null;
        FakeWebSocketScript? ws = null;
        Exception? error = null;
        var hostDown = false;
        lock (_gate)
        {
            try
            {
                if (call.Url.StartsWith("ws", StringComparison.OrdinalIgnoreCase))
                    ws = _webSockets.FirstOrDefault(w => w.Route.Matches(call)).Script;
                if (ws is null)
                {
                    var route = _routes.FirstOrDefault(r => r.Matches(call));
                    // A connect fault cannot happen on a connection already open: it waits for the next connection.
                    if (route?.Peek() is { IsConnectFault: true }) hostDown = true;
                    else response = route?.Take();
                }
            }
            catch (Exception e)
            {
                error = e; // the user's predicate threw: that exception fails the request, unchanged
            }
            if (!hostDown) _calls.Add(call);
            if (error is null && response is null && ws is null && !hostDown) error = Unscripted(call);
            call.Unmatched = response is null && ws is null && !hostDown;
        }
        if (hostDown)
        {
            // As a host that went down had closed its keep-alive connections: the request never reached it, and the
            // client's retry of an idempotent request on a new connection meets the fault (a POST fails as disconnected).
            connection.Stream.DeliverEof();
            return;
        }
        if (error is not null)
        {
            connection.Stream.DeliverFault(error);
            return;
        }
        if (ws is not null)
        {
            connection.Upgrade(call, ws, connection.Clock);
            lock (_gate) _sessions.Add(connection.WebSocket!.Session);
            return;
        }
        call.Response = response;
        connection.Serve(call, response!, connection.Clock);
    }

    /// <summary>Records a request the client abandoned before it was sent in full; no script saw it.</summary>
    internal void Record(FakeCall call)
    {
        lock (_gate) _calls.Add(call);
    }

    private UnscriptedRequestException Unscripted(FakeCall call)
    {
        var scripts = _routes.Select(r => "  " + r).Concat(_webSockets.Select(w => "  websocket " + w.Route.Pattern)).ToList();
        return new UnscriptedRequestException(
            $"RxHttp.Testing: no script answers {call.Method} {call.Url}. " +
            (scripts.Count == 0 ? "Nothing is scripted." : "Scripted:\n" + string.Join("\n", scripts)));
    }
}

internal static class Inline
{
    /// <summary>
    /// Runs <paramref name="complete"/> (which completes a task the library awaits) with no synchronization context, so
    /// the library's continuations run inline here rather than being posted (xUnit, for one, installs a context).
    /// </summary>
    public static void Run(Action complete)
    {
        var context = SynchronizationContext.Current;
        if (context is null)
        {
            complete();
            return;
        }
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            complete();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }
}
