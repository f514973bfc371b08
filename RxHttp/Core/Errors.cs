using System.Net.Sockets;

namespace RxHttp;

// The hierarchy mirrors aiohttp's client_exceptions.py. C# has single inheritance, so where aiohttp
// mixes in a builtin (OSError, ValueError, asyncio.TimeoutError) we keep the aiohttp parent and expose
// the builtin's meaning through properties (SocketError, Url) instead.

/// <summary>Base of every error RxHttp raises for a request, a response or a connection.</summary>
public class ClientError : Exception
{
    /// <summary>Creates the error.</summary>
    public ClientError(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>What was sent: method, URL and headers, attached to response errors.</summary>
public sealed record RequestInfo
{
    private HeaderCollection? _headers;
    // A request that went out with nothing added but Host keeps its own headers' array (shared, copied by the
    // request on its next change) instead of a copy per request; the collection is built when first asked for.
    private readonly string? _host;
    private readonly KeyValuePair<string, string>[]? _sent;
    private readonly int _sentCount;

    /// <summary>Creates the record.</summary>
    /// <param name="Method">The request method.</param>
    /// <param name="Url">The URL the request was sent to.</param>
    /// <param name="Headers">The request headers as sent.</param>
    public RequestInfo(string Method, Url Url, HeaderCollection Headers)
    {
        this.Method = Method;
        this.Url = Url;
        _headers = Headers;
    }

    // Sent as Host followed by every header of `headers` but Host.
    internal RequestInfo(string method, Url url, string host, HeaderCollection headers)
    {
        Method = method;
        Url = url;
        _host = host;
        _sent = headers.Share(out _sentCount);
    }

    // `with` copies share one headers collection, as they did when the headers were a plain property.
    private RequestInfo(RequestInfo original)
    {
        Method = original.Method;
        Url = original.Url;
        _realUrl = original._realUrl;
        _headers = original.Headers;
    }

    /// <summary>The request method.</summary>
    public string Method { get; init; }

    /// <summary>The URL the request was sent to.</summary>
    public Url Url { get; init; }

    /// <summary>
    /// The URL as requested, with its fragment (aiohttp's <c>real_url</c>); <see cref="Url"/> is the one sent, without
    /// it. The same as <see cref="Url"/> when there was no fragment.
    /// </summary>
    public Url RealUrl
    {
        get => _realUrl ?? Url;
        init => _realUrl = value;
    }

    private Url? _realUrl;

    /// <summary>The request headers as sent.</summary>
    public HeaderCollection Headers
    {
        get => _headers ?? Materialize();
        init => _headers = value;
    }

    /// <summary>Deconstructs the record.</summary>
    public void Deconstruct(out string Method, out Url Url, out HeaderCollection Headers)
    {
        Method = this.Method;
        Url = this.Url;
        Headers = this.Headers;
    }

    /// <inheritdoc />
    public bool Equals(RequestInfo? other) =>
        other is not null && (ReferenceEquals(this, other) ||
            Method == other.Method && EqualityComparer<Url>.Default.Equals(Url, other.Url) && ReferenceEquals(Headers, other.Headers));

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Method, Url, Headers);

    private HeaderCollection Materialize()
    {
        var headers = HeaderCollection.HostFirst(_host!, _sent.AsSpan(0, _sentCount), extra: 0).MakeReadOnly();
        // Two readers may race here; both see the first collection published.
        return Interlocked.CompareExchange(ref _headers, headers, null) ?? headers;
    }
}

/// <summary>The response body is malformed or was cut short (bad chunking, fewer bytes than Content-Length, decompression failure).</summary>
public class ClientPayloadError : ClientError
{
    /// <summary>Creates the error.</summary>
    public ClientPayloadError(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Base of connection-level failures.</summary>
public class ClientConnectionError : ClientError
{
    /// <summary>Creates the error.</summary>
    public ClientConnectionError(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>An operating-system level failure (aiohttp's ClientOSError); <see cref="SocketError"/> tells which.</summary>
public class ClientOSError : ClientConnectionError
{
    /// <summary>Creates the error.</summary>
    public ClientOSError(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>The socket error code when the cause was a <see cref="SocketException"/>.</summary>
    public SocketError? SocketError => InnerException is SocketException se ? se.SocketErrorCode : null;
}

/// <summary>Could not open a connection to the server (refused, unreachable, TLS failed).</summary>
public class ClientConnectorError : ClientOSError
{
    /// <summary>Creates the error.</summary>
    public ClientConnectorError(string host, int port, string message, Exception? inner = null)
        : base($"Cannot connect to host {host}:{port} [{message}]", inner)
    {
        Host = host;
        Port = port;
        Reason = message;
    }

    // What went between the brackets, for an error that wraps this one without nesting its host in again.
    internal string Reason { get; }

    /// <summary>The host that could not be reached.</summary>
    public string Host { get; }
    /// <summary>The port that could not be reached.</summary>
    public int Port { get; }
}

/// <summary>The host name could not be resolved.</summary>
public class ClientConnectorDnsError : ClientConnectorError
{
    /// <summary>Creates the error.</summary>
    public ClientConnectorDnsError(string host, int port, string message, Exception? inner = null) : base(host, port, message, inner) { }
}

/// <summary>Could not connect to the proxy.</summary>
public class ClientProxyConnectionError : ClientConnectorError
{
    /// <summary>Creates the error.</summary>
    public ClientProxyConnectionError(string host, int port, string message, Exception? inner = null) : base(host, port, message, inner) { }
}

/// <summary>The TLS handshake failed.</summary>
public class ClientSslError : ClientConnectorError
{
    /// <summary>Creates the error.</summary>
    public ClientSslError(string host, int port, string message, Exception? inner = null) : base(host, port, message, inner) { }
}

/// <summary>The server's certificate was not trusted (name mismatch, unknown root, expired).</summary>
public class ClientConnectorCertificateError : ClientSslError
{
    /// <summary>Creates the error.</summary>
    public ClientConnectorCertificateError(string host, int port, string message, Exception? inner = null) : base(host, port, message, inner) { }

    /// <summary>What the TLS stack found wrong (name mismatch, chain errors); None when not known.</summary>
    public System.Net.Security.SslPolicyErrors PolicyErrors { get; init; }

    /// <summary>
    /// Why the chain failed (NotTimeValid for an expired or not yet valid certificate, UntrustedRoot, PartialChain...),
    /// from the chain that decided: the <see cref="TlsOptions.TrustedRoots"/> one when those are given. aiohttp
    /// exposes the same as <c>certificate_error.verify_code</c>.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509ChainStatusFlags ChainStatus { get; init; }
}

/// <summary>A failure on an established connection to the server.</summary>
public class ServerConnectionError : ClientConnectionError
{
    /// <summary>Creates the error.</summary>
    public ServerConnectionError(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The server closed the connection before the response was complete.</summary>
public class ServerDisconnectedError : ServerConnectionError
{
    /// <summary>Creates the error.</summary>
    public ServerDisconnectedError(string message = "Server disconnected", Exception? inner = null) : base(message, inner) { }
}

/// <summary>Base of all timeouts: catch this to catch any of them.</summary>
public class ServerTimeoutError : ServerConnectionError
{
    /// <summary>Creates the error.</summary>
    public ServerTimeoutError(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Waiting for a pooled connection or opening one took longer than <c>Connect</c> or <c>SockConnect</c>.</summary>
public class ConnectionTimeoutError : ServerTimeoutError
{
    /// <summary>Creates the error.</summary>
    public ConnectionTimeoutError(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>No data arrived within <c>SockRead</c>.</summary>
public class SocketTimeoutError : ServerTimeoutError
{
    /// <summary>Creates the error.</summary>
    public SocketTimeoutError(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The whole operation exceeded <c>ClientTimeout.Total</c> (aiohttp raises asyncio.TimeoutError here).</summary>
public class TotalTimeoutError : ServerTimeoutError
{
    /// <summary>Creates the error.</summary>
    public TotalTimeoutError(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The server certificate's fingerprint did not match the pinned one.</summary>
public class ServerFingerprintMismatch : ServerConnectionError
{
    /// <summary>Creates the error.</summary>
    public ServerFingerprintMismatch(byte[] expected, byte[] got, string host, int port)
        : base($"Server fingerprint mismatch for {host}:{port}: expected {Convert.ToHexString(expected)}, got {Convert.ToHexString(got)}")
    {
        Expected = expected;
        Got = got;
        Host = host;
        Port = port;
    }

    /// <summary>The pinned fingerprint.</summary>
    public byte[] Expected { get; }
    /// <summary>The fingerprint the server presented.</summary>
    public byte[] Got { get; }
    /// <summary>The server host.</summary>
    public string Host { get; }
    /// <summary>The server port.</summary>
    public int Port { get; }
}

/// <summary>A URL is malformed or cannot be requested (no scheme, no host, bad port, control characters).</summary>
public class InvalidUrl : ClientError
{
    /// <summary>Creates the error.</summary>
    public InvalidUrl(string url, string? description = null)
        : base(description is null ? url : $"{url} - {description}")
    {
        Url = url;
        Description = description;
    }

    /// <summary>The offending URL as given.</summary>
    public string Url { get; }
    /// <summary>What is wrong with it.</summary>
    public string? Description { get; }
}

/// <summary>A URL the client was asked to use is invalid.</summary>
public class InvalidUrlClientError : InvalidUrl
{
    /// <summary>Creates the error.</summary>
    public InvalidUrlClientError(string url, string? description = null) : base(url, description) { }
}

/// <summary>A URL whose scheme is not http or https (or ws/wss for websockets).</summary>
public class NonHttpUrlClientError : InvalidUrlClientError
{
    /// <summary>Creates the error.</summary>
    public NonHttpUrlClientError(string url, string? description = null) : base(url, description ?? "not an http(s) URL") { }
}

/// <summary>A redirect's Location header could not be parsed.</summary>
public class InvalidUrlRedirectClientError : InvalidUrlClientError
{
    /// <summary>Creates the error.</summary>
    public InvalidUrlRedirectClientError(string url, string? description = null) : base(url, description ?? "invalid redirect URL") { }
}

/// <summary>A redirect pointed at a URL whose scheme is not http or https.</summary>
public class NonHttpUrlRedirectClientError : NonHttpUrlClientError
{
    /// <summary>Creates the error.</summary>
    public NonHttpUrlRedirectClientError(string url, string? description = null) : base(url, description ?? "redirect to a non-http(s) URL") { }
}

/// <summary>The websocket connection failed or the peer broke the protocol.</summary>
public class WsConnectionError : ClientConnectionError
{
    /// <summary>Creates the error.</summary>
    public WsConnectionError(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A send to a <see cref="ReconnectingWebSocket"/> found its queue full (<see cref="ReconnectOptions.SendQueueLimit"/>)
/// and was refused, or was the oldest waiting send and was dropped to make room
/// (<see cref="WsSendQueueFullMode.DropOldest"/>). Nothing of it was written.
/// </summary>
public class WsSendQueueFullError : WsConnectionError
{
    /// <summary>Creates the error.</summary>
    public WsSendQueueFullError(string message) : base(message) { }
}

/// <summary>The session was closed while the request was in flight or before it started.</summary>
public class SessionClosedError : ClientConnectionError
{
    /// <summary>Creates the error.</summary>
    public SessionClosedError(string message = "Session is closed") : base(message) { }
}
