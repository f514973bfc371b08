using System.Reactive.Concurrency;

namespace RxHttp;

/// <summary>
/// Turns a verb's arguments into the <see cref="ClientRequest"/> and its <see cref="RequestPlan"/>, the one place that
/// does, in the order of aiohttp's <c>ClientRequest.__init__</c>: URL, headers, auto headers, cookies, content
/// encoding, auth, proxy, body, transfer encoding, expect. What it cannot say in the request's headers and body it
/// says in the plan, which the engine's steps and the exchange read.
/// </summary>
internal sealed class RequestPlanBuilder
{
    private readonly ClientSessionOptions _options;
    private readonly Url? _baseUrl;
    private readonly HeaderCollection _headers;
    private readonly Func<object?, string> _jsonSerialize;
    private readonly IScheduler _scheduler;

    // ClientSessionOptions.SkipAutoHeaders, checked once: every request merges its own into it.
    private readonly HashSet<string>? _sessionSkip;

    public RequestPlanBuilder(ClientSessionOptions options, Url? baseUrl, HeaderCollection headers, Func<object?, string> jsonSerialize, IScheduler scheduler)
    {
        _options = options;
        _baseUrl = baseUrl;
        _headers = headers;
        _jsonSerialize = jsonSerialize;
        _scheduler = scheduler;
        _sessionSkip = SkipSet(options.SkipAutoHeaders, nameof(options));
    }

    public ClientRequest Build(string method, Url url, RequestOptions options)
    {
        if (options.Data is not null && options.Json is not null)
            throw new ArgumentException("Data and Json cannot both be set.", nameof(options));

        // update_host: the URL joined, queried, its fragment kept aside.
        if (options.Encoded) url = Url.Parse(url.Source ?? url.ToString(), encoded: true);
        var full = Url.JoinBase(_baseUrl, url);
        if (options.Params is not null) full = full.WithQuery(options.Params);
        var original = full;
        full = full.WithoutFragment();
        full.RequireHttp(allowWebSocket: false);
        BasicAuthOperator.RequireSendableUser(full, full.WithoutCredentials().ToString());

        // update_headers, update_auto_headers. No set to build for the usual request that skips nothing of its own
        // (the shared defaults skip the session's).
        var skip = MergedSkip(options.SkipAutoHeaders);
        var autoDecompress = options.AutoDecompress ?? _options.AutoDecompress;
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

        // update_cookies: the request's own; the jar's are added per hop, for each hop's URL.
        var cookies = options.Cookies?.ToList();
        if (cookies is not null)
        {
            // SimpleCookie refuses such keys (CookieError) rather than send a name that splits the Cookie header.
            foreach (var (name, value) in cookies)
                if (name is null || value is null || !SetCookieParser.IsValidName(name))
                    throw new ArgumentException($"'{name}' is not a valid cookie name, or its value is null.", nameof(options));
        }
        var encoding = ContentEncoding(headers, options);
        var auth = SelectAuth(full, headers, options);
        var proxy = options.Proxy is { } proxyUrl ? new ProxySettings(proxyUrl, options.ProxyAuth, options.ProxyHeaders) : null;

        // update_body_from_data, compressed as update_content_encoding decided; the exchange then sends it chunked
        // because the compressed length is unknown.
        Payload? body = null;
        if (options.Json is not null) body = new JsonPayload(_jsonSerialize(options.Json));
        else if (options.Data is not null) body = Payload.From(options.Data);
        if (body is not null && encoding is not null) body = new CompressedPayload(body, encoding);

        var timeout = options.Timeout is null ? _options.Timeout : options.Timeout with { };
        // update_transfer_encoding is the exchange's (Chunked, or a body of unknown length); URL credentials stay on
        // the URL: the per-hop auth step turns them into a header and strips them.
        var request = new ClientRequest(method, full, headers, body)
        {
            Timeout = timeout,
            Tls = options.Tls,
            Scheduler = options.Scheduler ?? _scheduler,
            Chunked = options.Chunked,
            AutoDecompress = autoDecompress,
            StreamResponse = options.StreamResponse ?? _options.StreamResponse,
            MaxBodySize = options.MaxBodySize ?? _options.MaxBodySize,
            ReadUntilEof = options.ReadUntilEof,
            ReadBufferSize = options.ReadBufferSize ?? _options.ReadBufferSize,
        };
        if (!ReferenceEquals(original, full)) request.SetOriginalUrl(original);
        if (request.MaxBodySize < 0)
            throw new ArgumentOutOfRangeException(nameof(options), request.MaxBodySize, "MaxBodySize must be 0 (no limit) or positive.");

        // update_expect_continue, with the rest of what the headers cannot carry; most requests have none of it.
        var skipContentType = skip is not null && skip.Contains("Content-Type");
        // A caller's own "Expect: 100-continue" holds the body as Expect100 does (RequestFraming), so it is timed the same.
        var expectsContinue = options.Expect100 || headers.Get("Expect") is { } expect && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase);
        if (proxy is not null || expectsContinue || options.UploadProgress is not null || skipContentType || auth is not null || cookies is not null
            || _options.TrustEnv)
        {
            request.Plan = new RequestPlan
            {
                Proxy = proxy,
                Expect100 = options.Expect100,
                Expect100Timeout = options.Expect100Timeout ?? _options.Expect100Timeout,
                UploadProgress = options.UploadProgress,
                SkipContentType = skipContentType,
                Auth = auth,
                Cookies = cookies,
                NetrcFor = _options.TrustEnv ? NetrcLookup : null,
            };
        }
        if (options.Properties is not null)
            foreach (var (k, v) in options.Properties) request.Properties[k] = v;
        return request;
    }

    // Compress names the body's Content-Encoding (set when there is a body to compress); an explicit one conflicts.
    private static string? ContentEncoding(HeaderCollection headers, RequestOptions options)
    {
        if (options.Compress is not { } compress) return null;
        var encoding = CompressedPayload.Normalize(compress);
        if (headers.Contains("Content-Encoding"))
            throw new ArgumentException("Compress cannot be combined with an explicit Content-Encoding header.", nameof(options));
        if (options.Data is null && options.Json is null) return null;
        headers.Set("Content-Encoding", encoding);
        // A caller's Content-Length measures the body before it is compressed; the compressed one goes chunked.
        headers.Remove("Content-Length");
        return encoding;
    }

    private static readonly Func<string, BasicAuth?> NetrcLookup = host => Netrc.For(host, Environment.GetEnvironmentVariable);

    // aiohttp's rules: URL credentials, else the request's auth, else the session's for its base origin; never two.
    private BasicAuth? SelectAuth(Url url, HeaderCollection headers, RequestOptions options)
    {
        if (options.Auth is not null && url.User is not null)
            throw new ArgumentException("Cannot combine Auth with credentials encoded in the URL.", nameof(options));
        var auth = options.Auth;
        if (auth is null && url.User is null && _options.Auth is { } sessionAuth && (_baseUrl is null || _baseUrl.Origin == url.Origin))
            auth = sessionAuth;
        if ((auth is not null || url.User is not null) && headers.Contains("Authorization") && (options.Auth is not null || url.User is not null))
            throw new ArgumentException("Cannot combine an Authorization header with Auth or credentials encoded in the URL.", nameof(options));
        // aiohttp 3.9+: with trust_env, the netrc entry for the host, only when nothing else gives credentials.
        if (auth is null && url.User is null && _options.TrustEnv && !headers.Contains("Authorization"))
            auth = Netrc.For(url.Host, Environment.GetEnvironmentVariable);
        return auth;
    }

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

    // aiohttp merges the request's skip_auto_headers with the session's; the websocket handshake's too.
    internal HashSet<string>? MergedSkip(IEnumerable<string>? own)
    {
        if (own is null) return _sessionSkip;
        var set = _sessionSkip is null ? new HashSet<string>(StringComparer.OrdinalIgnoreCase) : new HashSet<string>(_sessionSkip, StringComparer.OrdinalIgnoreCase);
        set.UnionWith(own);
        return set;
    }

    // The session's defaults with a request's own headers replacing every value of the names it sets.
    internal HeaderCollection DefaultHeadersWith(IEnumerable<KeyValuePair<string, string>>? own, int extra = 0)
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
        if (skip?.Contains("User-Agent") != true) headers.SetDefault("User-Agent", _options.UserAgent);
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
}
