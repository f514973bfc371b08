using System.Reactive.Concurrency;

namespace RxHttp;

/// <summary>
/// One request as it goes down the pipeline: what middlewares see and may change. Each redirect hop is a
/// new <see cref="ClientRequest"/>.
/// </summary>
public sealed class ClientRequest
{
    /// <summary>Creates a request.</summary>
    public ClientRequest(string method, Url url, HeaderCollection? headers = null, Payload? body = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        foreach (var c in method)
            if (!HeaderValidation.IsTokenChar(c)) throw new ArgumentException($"Method '{method}' is not a valid token.", nameof(method));
        Method = method;
        Url = url;
        Headers = headers ?? new HeaderCollection();
        Body = body;
    }

    /// <summary>The method, upper-case as given.</summary>
    public string Method { get; init; }

    /// <summary>The absolute URL (fragment removed).</summary>
    public Url Url { get; init; }

    /// <summary>
    /// The URL as the caller gave it, fragment included (aiohttp's <c>original_url</c>): it becomes the response's
    /// <see cref="ClientResponse.RealUrl"/>. The same as <see cref="Url"/> unless that had a fragment removed.
    /// </summary>
    public Url OriginalUrl
    {
        get => _originalUrl ?? Url;
        init => _originalUrl = value;
    }

    private Url? _originalUrl;

    // The redirect step's hop and the session's request: sent without the fragment, which RealUrl keeps.
    internal void SetOriginalUrl(Url url) => _originalUrl = url.RawFragment is null ? null : url.WithoutCredentials();

    // A URL changed by a step (credentials taken off, a middleware's) keeps the fragment the caller asked for; the
    // redirect step then sets its own hop's.
    private Url? CarryFragment(Url? url) =>
        url is null ? _originalUrl
        : _originalUrl?.RawFragment is { } fragment && url.RawFragment is null ? Url.Parse(url.WithoutCredentials() + "#" + fragment, encoded: true)
        : null;

    /// <summary>The headers to send (Host, Content-Length and Transfer-Encoding are added by the writer).</summary>
    public HeaderCollection Headers { get; init; }

    /// <summary>The body, or null.</summary>
    public Payload? Body { get; init; }

    /// <summary>The effective timeouts.</summary>
    public ClientTimeout Timeout { get; init; } = ClientTimeout.Default;

    /// <summary>TLS settings for this request; null uses the connector's.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>
    /// The clock of every timer of this request: its timeouts (Total, Connect, SockConnect, SockRead, with
    /// <see cref="ClientTimeout.CeilThreshold"/>), and the delays of operators that read it, such as
    /// <see cref="RetryOperator.Middleware(RetryOptions)"/>. The session sets it to
    /// <see cref="RequestOptions.Scheduler"/> or its own <see cref="ClientSession.Scheduler"/>; null (a request made
    /// by hand) leaves the choice to whoever sends it.
    /// </summary>
    public IScheduler? Scheduler { get; init; }

    /// <summary>Send the body chunked even when its length is known.</summary>
    public bool Chunked { get; init; }

    /// <summary>Whether the response body is decompressed.</summary>
    public bool AutoDecompress { get; init; } = true;

    // RequestOptions.StreamResponse: the body stays on its connection until read, even a small one that came with its head.
    internal bool StreamResponse { get; init; }

    // RequestOptions.ReadUntilEof and ReadBufferSize (0: the session default), for the exchange and the response.
    internal bool ReadUntilEof { get; init; } = true;
    internal int ReadBufferSize { get; init; }
    /// <summary>Most bytes a buffered read of the response takes, after decompression (0: no limit); see <see cref="ClientSessionOptions.MaxBodySize"/>.</summary>
    public long MaxBodySize { get; init; } = ClientSessionOptions.DefaultMaxBodySize;

    /// <summary>
    /// Free-form values for the caller's own middlewares (<see cref="RequestOptions.Properties"/>); RxHttp itself keeps
    /// nothing here.
    /// </summary>
    public IDictionary<string, object?> Properties
    {
        // Created on first use: most requests carry no property.
        get => _properties ??= new Dictionary<string, object?>();
        init => _properties = value;
    }

    private IDictionary<string, object?>? _properties;

    // What the session decided for this request (proxy, Expect, upload progress, credentials, cookies, tracer),
    // typed; immutable, so every copy shares it. Set only before the request is handed on: by the session (its
    // tracer) and by the redirect step (a cross-origin hop's).
    internal RequestPlan Plan { get; set; } = RequestPlan.None;

    // The Cookie header before and after the session's jar step, so a middleware's resend of this request can carry the
    // jar as it is by then (a cookie its 401 or 503 set) without losing the caller's own; null: no jar step ran.
    internal (string? Before, string? After)? JarCookie { get; set; }

    /// <summary>A copy with other values, for middlewares and redirect hops.</summary>
    public ClientRequest With(string? method = null, Url? url = null, HeaderCollection? headers = null, Payload? body = null, bool dropBody = false) =>
        Copy(method ?? Method, url, headers ?? Headers.Clone(), dropBody ? null : body ?? Body,
            _properties is null || _properties.Count == 0 ? null : new Dictionary<string, object?>(_properties));

    // The same hop with other headers (trace context): it shares this request's properties rather than copying
    // them, being the same request on its way down, not a new one a middleware might change independently. (The
    // plan, immutable, is shared by every copy.)
    internal ClientRequest WithHopHeaders(HeaderCollection headers) => Copy(Method, null, headers, Body, _properties);

    // url: the new URL, or null to keep this one (and its original, fragment and all).
    private ClientRequest Copy(string method, Url? url, HeaderCollection headers, Payload? body, IDictionary<string, object?>? properties) =>
        new(method, url ?? Url, headers, body)
        {
            Timeout = Timeout,
            Tls = Tls,
            Scheduler = Scheduler,
            Chunked = Chunked,
            AutoDecompress = AutoDecompress,
            StreamResponse = StreamResponse,
            MaxBodySize = MaxBodySize,
            ReadUntilEof = ReadUntilEof,
            ReadBufferSize = ReadBufferSize,
            _originalUrl = CarryFragment(url),
            _properties = properties,
            Plan = Plan,
            JarCookie = JarCookie,
        };

    /// <summary>Whether a failure before any response byte may be retried (RFC 9110 §9.2.2).</summary>
    public bool IsIdempotent => Method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";

    /// <inheritdoc />
    public override string ToString() => $"{Method} {Url}";
}
