using System.Text.Json;

namespace RxHttp.Extensions.DependencyInjection;

/// <summary>
/// The settings of one registered session, bindable from configuration (<c>"RxHttp:github": { "BaseUrl": …,
/// "Timeout": "00:00:30" }</c>). Everything left null keeps <see cref="ClientSessionOptions"/>' default.
/// </summary>
public sealed class RxHttpSessionOptions
{
    /// <summary>Absolute base URL whose path ends with '/'; relative request URLs are joined onto it.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Total timeout of a request (aiohttp's <c>ClientTimeout(total=…)</c>); must be positive.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Longest wait for a connection (pool queue plus connect); must be positive.</summary>
    public TimeSpan? ConnectTimeout { get; set; }

    /// <summary>Longest gap between two received chunks; must be positive.</summary>
    public TimeSpan? SockReadTimeout { get; set; }

    /// <summary>Default headers of every request.</summary>
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Which header values the Trace-level request logs show as "*" (the header names stay); null, the default,
    /// redacts every value, as HttpClientFactory's logging does since .NET 9. A header HttpClient knows is also asked
    /// about in HttpClient's spelling ("Authorization" for a request's "authorization"). Not bindable from configuration.
    /// </summary>
    public Func<string, bool>? ShouldRedactHeaderValue { get; set; }

    /// <summary>Connections in use plus being opened (0 = no limit; default 100).</summary>
    public int? Limit { get; set; }

    /// <summary>Connections per host (0 = no limit, the default).</summary>
    public int? LimitPerHost { get; set; }

    /// <summary>
    /// How long an idle pooled connection is kept (default 15 s). Zero keeps none idle, as the core's
    /// <see cref="ConnectorOptions.KeepaliveTimeout"/> does (a connection released while a request waits for one still
    /// goes to it); negative is a validation problem.
    /// </summary>
    public TimeSpan? KeepaliveTimeout { get; set; }

    /// <summary>
    /// How long a pooled connection may be reused after it opened; unset: no limit. Set it (a few minutes) so a
    /// long-lived session follows DNS changes, where IHttpClientFactory rotated its handlers; must be positive.
    /// </summary>
    public TimeSpan? PooledConnectionLifetime { get; set; }

    /// <summary>Raise <see cref="ClientResponseError"/> for 4xx/5xx.</summary>
    public bool? RaiseForStatus { get; set; }

    /// <summary>Decompress responses (default true).</summary>
    public bool? AutoDecompress { get; set; }

    /// <summary>Most redirects to follow (default 10); not negative.</summary>
    public int? MaxRedirects { get; set; }

    /// <summary>The User-Agent header.</summary>
    public string? UserAgent { get; set; }

    /// <summary>Read proxies (and netrc credentials) from the environment.</summary>
    public bool? TrustEnv { get; set; }

    /// <summary>Headers not added automatically (aiohttp's <c>skip_auto_headers</c>): User-Agent, Accept, Accept-Encoding, Content-Type.</summary>
    public List<string> SkipAutoHeaders { get; } = new();

    /// <summary>Requote a redirect's Location (default true, aiohttp's <c>requote_redirect_url</c>).</summary>
    public bool? RequoteRedirectUrl { get; set; }

    /// <summary>Read buffer size (aiohttp's <c>read_bufsize</c>, default 64 KiB); 1 byte to 1 GiB.</summary>
    public int? ReadBufferSize { get; set; }

    /// <summary>Encoding of a body without charset that is not UTF-8 (aiohttp's <c>fallback_charset_resolver</c>; not bindable from configuration).</summary>
    public Func<ClientResponse, ReadOnlyMemory<byte>, System.Text.Encoding>? FallbackCharsetResolver { get; set; }

    /// <summary>JSON settings for both directions (not bindable from configuration).</summary>
    public JsonSerializerOptions? JsonOptions { get; set; }

    /// <summary>Middlewares for every request of the session, first outermost (not bindable from configuration).</summary>
    public List<Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>>> Middlewares { get; } = new();

    /// <summary>What is wrong with these settings, one message per problem; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (BaseUrl is not null)
        {
            if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ws" or "wss"))
                problems.Add($"BaseUrl '{BaseUrl}' must be an absolute http(s) URL.");
            else if (!uri.AbsolutePath.EndsWith('/'))
                problems.Add($"BaseUrl '{BaseUrl}' must end with '/' so relative URLs join onto it (as aiohttp requires).");
        }
        Positive(Timeout, nameof(Timeout));
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        Positive(SockReadTimeout, nameof(SockReadTimeout));
        if (KeepaliveTimeout < TimeSpan.Zero) problems.Add($"KeepaliveTimeout must not be negative (got {KeepaliveTimeout}); leave it unset for the default.");
        Positive(PooledConnectionLifetime, nameof(PooledConnectionLifetime));
        NotNegative(Limit, nameof(Limit));
        NotNegative(LimitPerHost, nameof(LimitPerHost));
        NotNegative(MaxRedirects, nameof(MaxRedirects));
        if (ReadBufferSize is < 1 or > 1 << 30) problems.Add($"ReadBufferSize must be between 1 byte and 1 GiB (got {ReadBufferSize}).");
        if (SkipAutoHeaders.Any(string.IsNullOrWhiteSpace)) problems.Add("SkipAutoHeaders holds an empty header name.");
        // What the session would refuse when made, or each request when sent (a secret mounted from a file often ends
        // with a newline): said here, so it fails when the host starts, naming the session, like the other settings.
        foreach (var (name, value) in Headers)
        {
            if (name.Length == 0 || !name.All(IsTokenChar)) problems.Add($"Headers: '{name}' is not a header name (RFC 9110 token characters only).");
            else if (HasLineBreak(value)) problems.Add($"Headers: the value of '{name}' holds a CR, LF or NUL.");
        }
        if (HasLineBreak(UserAgent)) problems.Add("UserAgent holds a CR, LF or NUL.");
        return problems;

        static bool IsTokenChar(char c) =>
            char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

        static bool HasLineBreak(string? value) => value is not null && value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0;

        void Positive(TimeSpan? value, string name)
        {
            if (value is { } v && v <= TimeSpan.Zero) problems.Add($"{name} must be positive (got {v}); leave it unset for the default.");
        }

        void NotNegative(int? value, string name)
        {
            if (value < 0) problems.Add($"{name} must not be negative (got {value}).");
        }
    }

    /// <summary>The session these settings describe, on its own connector (its pool).</summary>
    internal ClientSession CreateSession()
    {
        var connector = new TcpConnector(new TcpConnectorOptions
        {
            Limit = Limit ?? 100,
            LimitPerHost = LimitPerHost ?? 0,
            KeepaliveTimeout = KeepaliveTimeout ?? TimeSpan.FromSeconds(15),
            PooledConnectionLifetime = PooledConnectionLifetime,
        });
        var defaults = new ClientSessionOptions();
        var options = new ClientSessionOptions
        {
            Connector = connector,
            Timeout = ClientTimeout.Default with
            {
                Total = Timeout ?? ClientTimeout.Default.Total,
                Connect = ConnectTimeout ?? ClientTimeout.Default.Connect,
                SockRead = SockReadTimeout ?? ClientTimeout.Default.SockRead,
            },
            Headers = Headers.Count == 0 ? null : Headers.ToList(),
            RaiseForStatus = RaiseForStatus ?? defaults.RaiseForStatus,
            AutoDecompress = AutoDecompress ?? defaults.AutoDecompress,
            MaxRedirects = MaxRedirects ?? defaults.MaxRedirects,
            UserAgent = UserAgent ?? defaults.UserAgent,
            TrustEnv = TrustEnv ?? defaults.TrustEnv,
            JsonOptions = JsonOptions,
            SkipAutoHeaders = SkipAutoHeaders.Count == 0 ? null : SkipAutoHeaders.ToArray(),
            RequoteRedirectUrl = RequoteRedirectUrl ?? defaults.RequoteRedirectUrl,
            ReadBufferSize = ReadBufferSize ?? defaults.ReadBufferSize,
            FallbackCharsetResolver = FallbackCharsetResolver,
            Middlewares = Middlewares.Count == 0 ? null : Middlewares.ToArray(),
        };
        return BaseUrl is null ? new ClientSession(options) : new ClientSession(BaseUrl, options);
    }
}
