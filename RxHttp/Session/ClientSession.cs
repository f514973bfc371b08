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
/// using var session = new ClientSession("http://localhost:8080/");
/// session.Get("users").SelectMany(r => r.Text()).Subscribe(Console.WriteLine);
/// </code></example>
public sealed partial class ClientSession : IDisposable, IAsyncDisposable
{
    private readonly HeaderCollection _headers;
    private readonly Http1Exchange _exchange;
    private readonly Func<object?, string> _jsonSerialize;
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
        _sessionSkip = SkipSet(SessionOptions.SkipAutoHeaders, nameof(options));
        _exchange = new Http1Exchange(Connector, Scheduler, limits, jsonOptions)
        {
            CharsetResolver = SessionOptions.FallbackCharsetResolver,
            DefaultProxy = DefaultProxyFor,
            Unreleased = new UnreleasedResponseGuard.Report(Scheduler, ReportUnreleased),
        };
        CookieJar = SessionOptions.CookieJar ?? new CookieJar(scheduler: Scheduler);
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
        _trace.OnCompleted();
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

    // ClientSessionOptions.SkipAutoHeaders, checked once: every request merges its own into it.
    private readonly HashSet<string>? _sessionSkip;

    private static HashSet<string>? SkipSet(IEnumerable<string>? names, string paramName)
    {
        if (names is null) return null;
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in names)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("SkipAutoHeaders holds an empty header name.", paramName);
            set.Add(name.Trim());
        }
        return set.Count == 0 ? null : set;
    }

    // aiohttp merges the request's skip_auto_headers with the session's.
    private HashSet<string>? MergedSkip(IEnumerable<string>? own)
    {
        if (own is null) return _sessionSkip;
        var set = _sessionSkip is null ? new HashSet<string>(StringComparer.OrdinalIgnoreCase) : new HashSet<string>(_sessionSkip, StringComparer.OrdinalIgnoreCase);
        set.UnionWith(own);
        return set;
    }

    // The session's defaults with a request's own headers replacing every value of the names it sets.
    private HeaderCollection DefaultHeadersWith(IEnumerable<KeyValuePair<string, string>>? own, int extra = 0)
    {
        var headers = _headers.Clone(extra);
        if (own is null) return headers;
        var explicitHeaders = new HeaderCollection(own);
        foreach (var name in explicitHeaders.Select(h => h.Key).Distinct(StringComparer.OrdinalIgnoreCase).ToList()) headers.Remove(name);
        foreach (var (k, v) in explicitHeaders) headers.Add(k, v);
        return headers;
    }

    // User-Agent, Accept and (when decompressing) Accept-Encoding, unless already set or named in `skip`.
    private void AddAutoHeaders(HeaderCollection headers, bool autoDecompress, HashSet<string>? skip = null)
    {
        if (skip?.Contains("User-Agent") != true) headers.SetDefault("User-Agent", SessionOptions.UserAgent);
        if (skip?.Contains("Accept") != true) headers.SetDefault("Accept", "*/*");
        if (autoDecompress && skip?.Contains("Accept-Encoding") != true) headers.SetDefault("Accept-Encoding", Decompression.AcceptEncoding);
    }

    // A request with no headers of its own starts from the same pairs every time (the session's defaults plus
    // User-Agent, Accept, Accept-Encoding): built once, and each request's collection shares the array, copying
    // it only if something changes that request's headers. Keyed by the session collection's array, which any
    // change to the session headers replaces once it is shared.
    private sealed record DefaultHeaders(KeyValuePair<string, string>[] Session, bool AutoDecompress, KeyValuePair<string, string>[] Items, int Count);

    private DefaultHeaders? _defaultHeaders;

    private HeaderCollection SharedDefaultHeaders(bool autoDecompress)
    {
        var session = _headers.Share(out _);
        var cached = Volatile.Read(ref _defaultHeaders);
        if (cached is null || !ReferenceEquals(cached.Session, session) || cached.AutoDecompress != autoDecompress)
        {
            var built = _headers.Clone(3);
            AddAutoHeaders(built, autoDecompress, _sessionSkip);
            cached = new DefaultHeaders(session, autoDecompress, built.Share(out var count), count);
            Volatile.Write(ref _defaultHeaders, cached);
        }
        return HeaderCollection.SharedCopy(cached.Items, cached.Count);
    }

    internal ClientRequest BuildRequest(string method, Url url, RequestOptions options)
    {
        if (options.Data is not null && options.Json is not null)
            throw new ArgumentException("Data and Json cannot both be set.", nameof(options));
        if (options.Encoded) url = Url.Parse(url.Source ?? url.ToString(), encoded: true);
        var full = Url.JoinBase(BaseUrl, url);
        if (options.Params is not null) full = full.WithQuery(options.Params);
        var original = full;
        full = full.WithoutFragment();
        full.RequireHttp(allowWebSocket: false);

        // No set to build for the usual request that skips nothing of its own (the shared defaults skip the session's).
        var skip = MergedSkip(options.SkipAutoHeaders);
        var autoDecompress = options.AutoDecompress ?? SessionOptions.AutoDecompress;
        HeaderCollection headers;
        if (options.SkipAutoHeaders is null && options.Headers is null)
        {
            headers = SharedDefaultHeaders(autoDecompress);
        }
        else
        {
            headers = DefaultHeadersWith(options.Headers, extra: 3);
            AddAutoHeaders(headers, autoDecompress, skip);
        }
        var auth = SelectAuth(full, headers, options);

        Payload? body = null;
        if (options.Json is not null) body = new JsonPayload(_jsonSerialize(options.Json));
        else if (options.Data is not null) body = Payload.From(options.Data);
        body = PrepareBody(body, headers, options);

        var timeout = options.Timeout is null ? SessionOptions.Timeout : options.Timeout with { };
        // URL credentials stay on the URL: the per-hop auth operator turns them into a header and strips them.
        var request = new ClientRequest(method, full, headers, body)
        {
            Timeout = timeout,
            Tls = options.Tls,
            Scheduler = options.Scheduler ?? Scheduler,
            Chunked = options.Chunked,
            AutoDecompress = autoDecompress,
            StreamResponse = options.StreamResponse ?? SessionOptions.StreamResponse,
            MaxBodySize = options.MaxBodySize ?? SessionOptions.MaxBodySize,
            ReadUntilEof = options.ReadUntilEof,
            ReadBufferSize = options.ReadBufferSize ?? SessionOptions.ReadBufferSize,
        };
        if (!ReferenceEquals(original, full)) request.SetOriginalUrl(original);
        if (request.MaxBodySize < 0)
            throw new ArgumentOutOfRangeException(nameof(options), request.MaxBodySize, "MaxBodySize must be 0 (no limit) or positive.");
        if (skip is not null && skip.Contains("Content-Type")) request.Properties[Http1Exchange.SkipContentType] = true;
        ApplyProxy(request, options);
        ApplyBodyOptions(request, options);
        if (auth is not null) request.Properties[BasicAuthOperator.AuthKey] = auth;
        if (options.Cookies is not null) request.Properties[CookiesOperator.RequestCookiesKey] = options.Cookies.ToList();
        if (options.Properties is not null)
            foreach (var (k, v) in options.Properties) request.Properties[k] = v;
        return request;
    }
}
