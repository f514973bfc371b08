using System.Reactive.Concurrency;
using System.Text;
using System.Text.Json;

namespace RxHttp;

/// <summary>
/// Per-request arguments (aiohttp's keyword arguments of <c>session.request</c>). Everything left null
/// falls back to the session's defaults.
/// </summary>
public sealed record RequestOptions
{
    /// <summary>Query parameters merged after any query already in the URL.</summary>
    public QueryParams? Params { get; init; }

    /// <summary>Headers for this request, over the session's defaults.</summary>
    public IEnumerable<KeyValuePair<string, string>>? Headers { get; init; }

    /// <summary>The body: a <see cref="Payload"/>, bytes, a string, a form dictionary, a stream, … (see <see cref="Payload.From"/>).</summary>
    public object? Data { get; init; }

    /// <summary>An object sent as JSON with the session's serializer. Cannot be combined with <see cref="Data"/>.</summary>
    public object? Json { get; init; }

    /// <summary>Follow redirects (default true, false for HEAD).</summary>
    public bool? AllowRedirects { get; init; }

    /// <summary>Most redirects to follow (default 10).</summary>
    public int? MaxRedirects { get; init; }

    /// <summary>
    /// Timeouts for this request, replacing the session's whole (as aiohttp's per-request timeout): what this one leaves
    /// null is off. A bare <see cref="TimeSpan"/> converts to a Total timeout.
    /// </summary>
    public ClientTimeout? Timeout { get; init; }

    /// <summary>TLS settings for this request, over the connector's.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>
    /// The clock of every timer of this request, over the session's <see cref="ClientSessionOptions.Scheduler"/>:
    /// the Total, Connect, SockConnect and SockRead timeouts (ceiled by <see cref="ClientTimeout.CeilThreshold"/>),
    /// those of its redirect hops and of its body's reads, and the backoff of a session's
    /// <see cref="RetryOperator.Middleware(RetryOptions)"/>. With a <c>TestScheduler</c> here one request runs in
    /// virtual time while the rest of the session keeps its own clock. Null: the session's.
    /// </summary>
    public IScheduler? Scheduler { get; init; }

    /// <summary>Cookies sent with this request only (not stored in the jar).</summary>
    public IEnumerable<KeyValuePair<string, string>>? Cookies { get; init; }

    /// <summary>Use the URL as given, byte for byte, without requoting (aiohttp's <c>encoded=True</c>).</summary>
    public bool Encoded { get; init; }

    /// <summary>Send the body chunked even when its length is known.</summary>
    public bool Chunked { get; init; }

    /// <summary>
    /// Compress the body with this Content-Encoding ("deflate" as aiohttp's <c>compress=True</c>, "gzip", "br" or "zstd");
    /// forces chunked. Combining it with an explicit Content-Encoding header is an <see cref="ArgumentException"/>.
    /// </summary>
    public string? Compress { get; init; }

    /// <summary>
    /// Send <c>Expect: 100-continue</c> and hold the body back until the server answers 100 Continue; a final
    /// status instead (417, 401, 413, …) is returned without the body ever being sent. A server that says neither
    /// within <see cref="Expect100Timeout"/> gets the body anyway (RFC 9110 §10.1.1: a client should not wait
    /// indefinitely, since many servers and HTTP/1.0 proxies never send 100).
    /// </summary>
    public bool Expect100 { get; init; }

    /// <summary>This request's <see cref="ClientSessionOptions.Expect100Timeout"/>.</summary>
    public TimeSpan? Expect100Timeout
    {
        get => _expect100Timeout;
        init => _expect100Timeout = value is { } v ? ClientSessionOptions.CheckExpect100Timeout(v) : null;
    }

    private TimeSpan? _expect100Timeout;

    /// <summary>
    /// Receives upload progress (bytes written so far and the total when known) as the body is written; a
    /// <c>Subject&lt;TransferProgress&gt;</c> here can be sampled and bound to a UI. Called on the writing thread.
    /// </summary>
    public IObserver<TransferProgress>? UploadProgress { get; init; }

    /// <summary>Headers that are not added automatically: User-Agent, Accept, Accept-Encoding, Content-Type.</summary>
    public IEnumerable<string>? SkipAutoHeaders { get; init; }

    /// <summary>Decompress gzip, deflate, br and zstd bodies (default: the session's setting, true).</summary>
    public bool? AutoDecompress { get; init; }

    /// <summary>Raise <see cref="ClientResponseError"/> for 4xx/5xx (default: the session's setting, false).</summary>
    public bool? RaiseForStatus { get; init; }

    /// <summary>
    /// Keep an unread body on its connection after the subscription that delivered the response ended, for a
    /// streaming read started later, and a small body that came with its head on it too (default: the session's
    /// setting, false). Without it an unread body is read into memory up to 1 MiB when the subscription that delivered
    /// the response ends, and its connection returned when it fits. With it the caller must read the body to the end
    /// or release the response (a collected, unreleased response has its connection closed and reported as
    /// <see cref="TraceEventKind.ResponseUnreleased"/>).
    /// </summary>
    public bool? StreamResponse { get; init; }

    /// <summary>
    /// Most bytes a buffered read of this response (<c>Read</c>, <c>Text</c>, <c>Json</c>, <c>Multipart</c>) takes,
    /// counted after decompression; 0 turns the limit off. Default: the session's
    /// <see cref="ClientSessionOptions.MaxBodySize"/>.
    /// </summary>
    public long? MaxBodySize { get; init; }

    /// <summary>
    /// A proxy for this request (aiohttp's <c>proxy=</c>): through an http:// proxy plain http goes in absolute form,
    /// https and wss through a CONNECT tunnel; a socks5://, socks5h://, socks4:// or socks4a:// proxy carries every
    /// scheme (see <see cref="ProxySettings"/>). Overrides the session's, the connector's and the environment's proxy.
    /// </summary>
    public Url? Proxy { get; init; }

    /// <summary>Credentials for <see cref="Proxy"/>, sent as Basic <c>Proxy-Authorization</c> to an http:// proxy and in the SOCKS handshake to a SOCKS one (credentials in the proxy URL work too).</summary>
    public System.Net.NetworkCredential? ProxyAuth { get; init; }

    /// <summary>Headers for <see cref="Proxy"/>: on the CONNECT request of a tunnel, else on the request itself.</summary>
    public IEnumerable<KeyValuePair<string, string>>? ProxyHeaders { get; init; }
    /// <summary>Raise <see cref="ClientResponseError"/> for the responses this picks; wins over <see cref="RaiseForStatus"/> and the session's settings.</summary>
    public Func<ClientResponse, bool>? RaiseForStatusWhen { get; init; }

    /// <summary>
    /// Basic credentials for this request (aiohttp's <c>auth</c>); cannot be combined with credentials in the URL
    /// or an explicit Authorization header. Dropped on a cross-origin redirect.
    /// </summary>
    public BasicAuth? Auth { get; init; }

    /// <summary>Middlewares for this request, first outermost; replace the session's when set (an empty list disables them).</summary>
    public IReadOnlyList<Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>>>? Middlewares { get; init; }

    /// <summary>
    /// This request's <see cref="ClientSessionOptions.ReadBufferSize"/> (aiohttp's per-request <c>read_bufsize</c>);
    /// null: the session's. Less than 1 is an <see cref="ArgumentOutOfRangeException"/> when set.
    /// </summary>
    public int? ReadBufferSize
    {
        get => _readBufferSize;
        init => _readBufferSize = value is { } v ? ClientSessionOptions.CheckReadBufferSize(v) : null;
    }

    private readonly int? _readBufferSize;

    /// <summary>
    /// aiohttp's <c>read_until_eof</c> (default true): a response with neither Content-Length nor chunked framing has
    /// a body that runs until the server closes the connection. False treats such a body as empty (the connection is
    /// closed, since whatever the server sends next cannot be framed), for servers that omit the length of an empty body.
    /// </summary>
    public bool ReadUntilEof { get; init; } = true;

    /// <summary>Free-form values copied into <see cref="ClientRequest.Properties"/>, for the caller's own middlewares.</summary>
    public IReadOnlyDictionary<string, object?>? Properties { get; init; }
}

/// <summary>Session-wide defaults (aiohttp's ClientSession arguments).</summary>
public sealed class ClientSessionOptions
{
    /// <summary>Headers sent with every request unless the request overrides them.</summary>
    public IEnumerable<KeyValuePair<string, string>>? Headers { get; init; }

    /// <summary>Timeouts (default <see cref="ClientTimeout.Default"/>).</summary>
    public ClientTimeout Timeout { get; init; } = ClientTimeout.Default;

    /// <summary>The connector; the session creates a <see cref="TcpConnector"/> when null and closes it with itself.</summary>
    public BaseConnector? Connector { get; init; }

    /// <summary>
    /// Whether the session owns <see cref="Connector"/> and closes it when the session closes (default true, as
    /// aiohttp's <c>connector_owner</c>); false leaves a connector shared between sessions open.
    /// </summary>
    public bool ConnectorOwner { get; init; } = true;

    /// <summary>Serialises <see cref="RequestOptions.Json"/> bodies and websocket <c>SendJson</c> (default: System.Text.Json with <see cref="JsonOptions"/>).</summary>
    public Func<object?, string>? JsonSerialize { get; init; }

    /// <summary>
    /// System.Text.Json settings for both directions: <see cref="RequestOptions.Json"/> bodies, websocket
    /// <c>SendJson</c> and <c>ClientResponse.Json&lt;T&gt;()</c> (default: web defaults, as
    /// <see cref="JsonSerializerOptions.Web"/>). For trimmed and NativeAOT apps give options whose
    /// <see cref="JsonSerializerOptions.TypeInfoResolver"/> is a source-generated <c>JsonSerializerContext</c>.
    /// </summary>
    public JsonSerializerOptions? JsonOptions { get; init; }

    /// <summary>Decompress gzip, deflate, br and zstd responses and advertise them in Accept-Encoding (default true); a body in any other coding fails with <see cref="ClientPayloadError"/> when read.</summary>
    public bool AutoDecompress { get; init; } = true;

    /// <summary>Raise <see cref="ClientResponseError"/> for every 4xx/5xx response (default false).</summary>
    public bool RaiseForStatus { get; init; }

    /// <summary>The default of <see cref="RequestOptions.StreamResponse"/> for every request of the session.</summary>
    public bool StreamResponse { get; init; }

    /// <summary>The default of <see cref="MaxBodySize"/>: 64 MiB.</summary>
    public const long DefaultMaxBodySize = 64L * 1024 * 1024;

    /// <summary>
    /// Most bytes a buffered read (<see cref="ClientResponse.Read"/>, <c>Text</c>, <c>Json</c>, <c>Multipart</c>) takes
    /// from one response, counted after decompression as the bytes are inflated, so a small compressed "bomb" cannot
    /// fill memory; a Content-Length announcing more fails at once. Exceeding it raises
    /// <see cref="ClientPayloadTooLargeError"/> and releases the response. Default <see cref="DefaultMaxBodySize"/>
    /// (64 MiB); 0 turns the limit off. Streaming reads (<c>Content</c>, <c>BorrowedContent</c>, <c>IterChunked</c>,
    /// <c>Lines</c>, <c>GetStream</c>) are not limited: they hold one chunk at a time.
    /// </summary>
    public long MaxBodySize { get; init; } = DefaultMaxBodySize;

    /// <summary>Raise <see cref="ClientResponseError"/> for the responses this picks (wins over <see cref="RaiseForStatus"/>).</summary>
    public Func<ClientResponse, bool>? RaiseForStatusWhen { get; init; }

    /// <summary>
    /// The cookie store (default: a new <see cref="CookieJar"/> on the session's scheduler; a <see cref="CookieJar"/> made
    /// without a scheduler takes the session's too). Pass a <see cref="DummyCookieJar"/> to keep none.
    /// </summary>
    public AbstractCookieJar? CookieJar { get; init; }

    /// <summary>Cookies preloaded into the jar as shared cookies, sent to every host.</summary>
    public IEnumerable<KeyValuePair<string, string>>? Cookies { get; init; }

    /// <summary>Basic credentials sent with every request to the base URL's origin (every request when there is no base URL).</summary>
    public BasicAuth? Auth { get; init; }

    /// <summary>Middlewares for every request, first outermost; they run per hop, inside the redirect loop.</summary>
    public IReadOnlyList<Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>>>? Middlewares { get; init; }

    /// <summary>The clock for every timer the session and its connector start (default <see cref="DefaultScheduler.Instance"/>).</summary>
    public IScheduler? Scheduler { get; init; }

    /// <summary>The User-Agent header sent unless skipped or overridden.</summary>
    public string UserAgent { get; init; } = Http1.HttpRequestWriter.DefaultUserAgent;

    /// <summary>Most redirects to follow (default 10).</summary>
    public int MaxRedirects { get; init; } = 10;

    /// <summary>
    /// How long a request sent with <see cref="RequestOptions.Expect100"/> (or its own <c>Expect: 100-continue</c>
    /// header) waits for the server's 100 Continue (or
    /// final answer) before it sends the body anyway: 1 second by default, as HttpClient's
    /// <c>Expect100ContinueTimeout</c> and curl's; <see cref="Timeout.InfiniteTimeSpan"/> waits for the answer. Timed on
    /// the request's scheduler.
    /// </summary>
    public TimeSpan Expect100Timeout
    {
        get => _expect100Timeout;
        init => _expect100Timeout = CheckExpect100Timeout(value);
    }

    private TimeSpan _expect100Timeout = TimeSpan.FromSeconds(1);

    internal static TimeSpan CheckExpect100Timeout(TimeSpan value) =>
        value >= TimeSpan.Zero || value == System.Threading.Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Expect100Timeout must be zero or positive, or Timeout.InfiniteTimeSpan.");

    /// <summary>Limits for response heads (line 8190 bytes, field 8190, 128 headers, as aiohttp).</summary>
    public int MaxLineSize { get; init; } = 8190;

    /// <summary>Longest header line accepted.</summary>
    public int MaxFieldSize { get; init; } = 8190;

    /// <summary>Most headers accepted in one response.</summary>
    public int MaxHeaders { get; init; } = 128;

    /// <summary>A proxy for every request that names none (aiohttp's session <c>proxy=</c>); see <see cref="RequestOptions.Proxy"/>.</summary>
    public ProxySettings? Proxy { get; init; }

    /// <summary>
    /// aiohttp's <c>fallback_charset_resolver</c>: picks the encoding of a text body whose Content-Type names no
    /// charset when the body is not valid UTF-8, given the response and the whole body. Used by
    /// <see cref="ClientResponse.Text"/>, <see cref="ClientResponse.GetEncoding"/> and JSON of a non-JSON media type.
    /// Null (the default) is strict, as aiohttp's UTF-8 default: such a body fails with <see cref="TextDecodeError"/>
    /// instead of decoding to U+FFFD. A body that is valid UTF-8 is decoded as UTF-8 without asking.
    /// </summary>
    /// <example><c>FallbackCharsetResolver = (response, body) =&gt; Encoding.Latin1</c></example>
    public Func<ClientResponse, ReadOnlyMemory<byte>, Encoding>? FallbackCharsetResolver { get; init; }

    /// <summary>
    /// Headers not added automatically to any request of the session (aiohttp's <c>skip_auto_headers</c>):
    /// User-Agent, Accept, Accept-Encoding, Content-Type. Merged with each request's
    /// <see cref="RequestOptions.SkipAutoHeaders"/>. An empty or null name is an <see cref="ArgumentException"/>
    /// when the session is made.
    /// </summary>
    public IEnumerable<string>? SkipAutoHeaders { get; init; }

    /// <summary>
    /// Requote the Location of a redirect (aiohttp's <c>requote_redirect_url</c>, default true): percent-escapes are
    /// normalised and unsafe characters quoted as for any URL. False follows the Location byte for byte, for servers
    /// that sign or compare their URLs exactly.
    /// </summary>
    public bool RequoteRedirectUrl { get; init; } = true;

    /// <summary>The default of <see cref="ReadBufferSize"/>: 64 KiB, as aiohttp's <c>read_bufsize</c>.</summary>
    public const int DefaultReadBufferSize = ClientResponse.DefaultReadBufferSize;

    /// <summary>
    /// aiohttp's <c>read_bufsize</c>: the most bytes one read of a response body takes off the connection for
    /// <see cref="ClientResponse.Content"/> (each chunk is at most this long), and the body stream's high-water mark:
    /// <see cref="ClientResponse.ReadUntil"/> refuses a segment longer than twice this, as aiohttp's
    /// <c>readuntil</c>. Default <see cref="DefaultReadBufferSize"/>; 1 byte to 1 GiB, else an
    /// <see cref="ArgumentOutOfRangeException"/> when set.
    /// </summary>
    public int ReadBufferSize
    {
        get => _readBufferSize;
        init => _readBufferSize = CheckReadBufferSize(value);
    }

    private readonly int _readBufferSize = DefaultReadBufferSize;

    internal static int CheckReadBufferSize(int value) => value is >= 1 and <= 1 << 30
        ? value
        : throw new ArgumentOutOfRangeException(nameof(ReadBufferSize), value, "ReadBufferSize must be between 1 byte and 1 GiB.");

    /// <summary>
    /// Read proxies from the environment as aiohttp's <c>trust_env=True</c>: <c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c>,
    /// <c>WS_PROXY</c>, <c>WSS_PROXY</c> by URL scheme, else <c>ALL_PROXY</c> (lower or upper case, lower wins;
    /// under CGI upper-case <c>HTTP_PROXY</c> is ignored) and <c>NO_PROXY</c> (comma-separated hosts, subdomains
    /// match, <c>*</c> for all). http:// and SOCKS proxies are used (a value without a scheme is http). Also, as aiohttp
    /// 3.9 and later, basic credentials from the netrc file (<c>NETRC</c>, else <c>~/.netrc</c>; <c>_netrc</c> on
    /// Windows) for the request's host, its <c>machine</c> entry else <c>default</c>, when the request has no
    /// Authorization header, no <see cref="RequestOptions.Auth"/>, no credentials in its URL and no session
    /// <see cref="Auth"/> for its origin. Default false.
    /// </summary>
    public bool TrustEnv { get; init; }
}
