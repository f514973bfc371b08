namespace RxHttp;

/// <summary>
/// What makes two connections interchangeable in the pool: the same host, port, TLS settings,
/// proxy (with its credentials) and server name. Requests only reuse connections with an equal key.
/// </summary>
/// <param name="Host">The server host (ASCII, IDNA form).</param>
/// <param name="Port">The server port.</param>
/// <param name="IsSsl">Whether the connection is wrapped in TLS.</param>
/// <param name="Tls">The TLS settings in force (compared by reference: one settings object, one pool bucket).</param>
/// <param name="Proxy">The proxy URL, when the connection goes through one.</param>
/// <param name="ProxyAuth">The proxy's Proxy-Authorization value, part of the key so credentials never mix.</param>
public sealed record ConnectionKey(string Host, int Port, bool IsSsl, TlsOptions? Tls = null, string? Proxy = null, string? ProxyAuth = null)
{
    /// <summary>The name used for SNI and certificate checks: the TLS override or the host.</summary>
    public string ServerName => Tls?.ServerHostname ?? Host;

    /// <inheritdoc />
    public override string ToString() => $"{(IsSsl ? "https" : "http")}://{Host}:{Port}{(Proxy is null ? "" : " via " + Proxy)}";
}
