using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Text.Json;
using RxHttp.Http1;

namespace RxHttp;

/// <summary>
/// The entry point (aiohttp's ClientSession): holds defaults, the connector (pool) and the cookie jar, and turns
/// every call into a cold <see cref="IObservable{ClientResponse}"/>: subscribing sends the request, disposing the
/// subscription before the response arrives cancels it and closes its connection. Once delivered, a response
/// owns its connection until its body is read to the end, or it is released or disposed.
/// </summary>
/// <example><code>
/// await using var session = new ClientSession("http://localhost:8080/");
/// string users = await session.Get("users").SelectMany(r =&gt; r.Text());
/// </code></example>
public sealed partial class ClientSession : IDisposable, IAsyncDisposable
{
    private readonly HeaderCollection _headers;
    private readonly Http1Exchange _exchange;
    private readonly Func<object?, string> _jsonSerialize;
    private readonly RequestPlanBuilder _plans;
    private readonly AsyncSubject<Unit> _closed = new();
    private int _isClosed;

    /// <summary>Creates a session with no base URL.</summary>
    public ClientSession(ClientSessionOptions? options = null) : this((Url?)null, options) { }

    /// <summary>Creates a session whose relative request URLs are joined onto <paramref name="baseUrl"/> (which must end with '/').</summary>
    public ClientSession(string baseUrl, ClientSessionOptions? options = null) : this(Url.Parse(baseUrl), options) { }

    /// <summary>Creates a session whose relative request URLs are joined onto <paramref name="baseUrl"/> (which must end with '/').</summary>
    public ClientSession(Url? baseUrl, ClientSessionOptions? options = null)
    {
        SessionOptions = options ?? new ClientSessionOptions();
        _traceSink = new SerializedTraceSink(_trace);
        _traceCompletion = new TraceCompletion(_traceSink);
        if (SessionOptions.MaxBodySize < 0)
            throw new ArgumentOutOfRangeException(nameof(options), SessionOptions.MaxBodySize, "MaxBodySize must be 0 (no limit) or positive.");
        if (SessionOptions.MaxRedirects < 0)
            throw new ArgumentOutOfRangeException(nameof(options), SessionOptions.MaxRedirects, "MaxRedirects cannot be negative.");
        if (baseUrl is not null)
        {
            if (!baseUrl.IsAbsolute) throw new ArgumentException($"The base URL must be absolute: '{baseUrl}'.", nameof(baseUrl));
            if (!baseUrl.Path.EndsWith('/')) throw new ArgumentException($"The base URL's path must end with '/': '{baseUrl}'.", nameof(baseUrl));
        }
        BaseUrl = baseUrl;
        Scheduler = SessionOptions.Scheduler ?? DefaultScheduler.Instance;
        _virtualClock = Transport.TimerWheel.IsVirtualTime(Scheduler);
        Connector = SessionOptions.Connector ?? new TcpConnector(new TcpConnectorOptions { Scheduler = Scheduler });
        Connector.AdoptScheduler(Scheduler);
        _headers = SessionOptions.Headers is null ? new HeaderCollection() : new HeaderCollection(SessionOptions.Headers);
        // One set of JSON options for both directions: what Json<T>() reads is what RequestOptions.Json sends.
        var jsonOptions = SessionOptions.JsonOptions ?? JsonDefaults.Web;
        _jsonSerialize = SessionOptions.JsonSerialize ?? (o => System.Text.Encoding.UTF8.GetString(JsonDefaults.SerializeToUtf8(o, jsonOptions)));
        var limits = new HttpParserLimits { MaxLineSize = SessionOptions.MaxLineSize, MaxFieldSize = SessionOptions.MaxFieldSize, MaxHeaders = SessionOptions.MaxHeaders };
        _plans = new RequestPlanBuilder(SessionOptions, BaseUrl, _headers, _jsonSerialize, Scheduler);
        _exchange = new Http1Exchange(Connector, Scheduler, limits, jsonOptions)
        {
            CharsetResolver = SessionOptions.FallbackCharsetResolver,
            DefaultProxy = DefaultProxyFor,
            Unreleased = new UnreleasedResponseGuard.Report(Scheduler, ReportUnreleased),
        };
        CookieJar = SessionOptions.CookieJar ?? new CookieJar(scheduler: Scheduler);
        CookieJar.AdoptScheduler(Scheduler);
        if (SessionOptions.Cookies is not null) CookieJar.UpdateCookies(SessionOptions.Cookies);
    }

    private readonly bool _virtualClock;

    // Whether a request on own (its RequestOptions.Scheduler; null: the session's) runs on a virtual-time scheduler.
    internal bool IsVirtualClock(IScheduler? own) => own is null ? _virtualClock : Transport.TimerWheel.IsVirtualTime(own);

    /// <summary>The settings the session was made with.</summary>
    public ClientSessionOptions SessionOptions { get; }

    /// <summary>The base URL relative request URLs are joined onto, or null.</summary>
    public Url? BaseUrl { get; }

    /// <summary>The connector (pool) every request goes through.</summary>
    public BaseConnector Connector { get; }

    /// <summary>The clock of every timer: timeouts, keep-alive expiry, retries.</summary>
    public IScheduler Scheduler { get; }

    /// <summary>Default headers (a copy is made per request, so changing these affects later requests only).</summary>
    public HeaderCollection Headers => _headers;

    /// <summary>The session's default timeouts.</summary>
    public ClientTimeout Timeout => SessionOptions.Timeout;

    /// <summary>True once the session is closed.</summary>
    public bool Closed => Volatile.Read(ref _isClosed) != 0;

    /// <summary>Signals (one value, then completion) when the session closes.</summary>
    public IObservable<Unit> WhenClosed => _closed.AsObservable();

    /// <summary>A request with any method. Cold: each subscription sends it once.</summary>
    public ResponseObservable Request(string method, Url url, RequestOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(url);
        return new ResponseObservable(this, method.ToUpperInvariant(), url, options ?? Empty);
    }

    /// <summary>GET. Redirects are followed by default.</summary>
    public ResponseObservable Get(Url url, RequestOptions? options = null) => Request("GET", url, options);
    /// <summary>POST.</summary>
    public ResponseObservable Post(Url url, RequestOptions? options = null) => Request("POST", url, options);
    /// <summary>PUT.</summary>
    public ResponseObservable Put(Url url, RequestOptions? options = null) => Request("PUT", url, options);
    /// <summary>DELETE.</summary>
    public ResponseObservable Delete(Url url, RequestOptions? options = null) => Request("DELETE", url, options);
    /// <summary>HEAD. Redirects are not followed unless <see cref="RequestOptions.AllowRedirects"/> says so.</summary>
    public ResponseObservable Head(Url url, RequestOptions? options = null) => Request("HEAD", url, options);
    /// <summary>OPTIONS.</summary>
    public ResponseObservable Options(Url url, RequestOptions? options = null) => Request("OPTIONS", url, options);
    /// <summary>PATCH.</summary>
    public ResponseObservable Patch(Url url, RequestOptions? options = null) => Request("PATCH", url, options);

    /// <summary>Closes the session and (when it owns it) its connector: pooled and in-flight connections are closed.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _isClosed, 1) != 0) return;
        if (SessionOptions.ConnectorOwner) Connector.Close();
        AbortWebSockets();
        _closed.OnNext(Unit.Default);
        _closed.OnCompleted();
        _traceCompletion.Close();
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose() => Close();

    /// <summary>Same as <see cref="Close"/>.</summary>
    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    private static readonly RequestOptions Empty = new();

    // Per hop, so a redirect to a NO_PROXY host goes direct: the session's proxy, the connector's, then the environment's.
    private ProxySettings? DefaultProxyFor(Url url) =>
        SessionOptions.Proxy
        ?? Connector.DefaultProxy
        ?? (SessionOptions.TrustEnv ? EnvironmentProxy(url, Environment.GetEnvironmentVariable) : null);

    /// <summary>The environment's proxy for <paramref name="url"/>, with the proxy host's netrc credentials when its URL has none (as aiohttp).</summary>
    internal static ProxySettings? EnvironmentProxy(Url url, Func<string, string?> env) =>
        ProxyEnvironment.For(url, env, host => Netrc.For(host, env) is { } netrc ? new System.Net.NetworkCredential(netrc.Login, netrc.Password) : null);
}
