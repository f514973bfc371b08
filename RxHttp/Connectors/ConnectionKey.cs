namespace RxHttp;

/// <summary>
/// What makes two connections interchangeable in the pool: the same host, port, TLS settings,
/// proxy (with its credentials and headers) and server name. Requests only reuse connections with an equal key.
/// </summary>
/// <param name="Host">The server host (ASCII, IDNA form). Through a <see cref="UnixConnector"/> only the Host header uses it.</param>
/// <param name="Port">The server port.</param>
/// <param name="IsSsl">Whether the connection is wrapped in TLS (inside a CONNECT tunnel or over a SOCKS connection when <paramref name="Proxy"/> is set).</param>
/// <param name="Tls">The TLS settings in force (compared by reference: one settings object, one pool bucket).</param>
/// <param name="Proxy">The proxy URL (http://, socks5://, socks5h://, socks4:// or socks4a://, without credentials), when the connection goes through one.</param>
/// <param name="ProxyAuth">The proxy's Proxy-Authorization value (a SOCKS5 proxy gets the user name and password in it), part of the key so credentials never mix.</param>
public sealed record ConnectionKey(string Host, int Port, bool IsSsl, TlsOptions? Tls = null, string? Proxy = null, string? ProxyAuth = null)
{
    /// <summary>Extra headers for the proxy as <c>Name: value</c> lines joined by CRLF (validated), or null.</summary>
    public string? ProxyHeaders { get; init; }

    /// <summary>The name used for SNI and certificate checks: the TLS override or the host.</summary>
    public string ServerName => Tls?.ServerHostname ?? Host;

    /// <summary>
    /// Open a CONNECT tunnel through the HTTP proxy even without TLS: websocket handshakes to ws:// URLs take one
    /// (RFC 6455 §4.1), since forwarding proxies drop the <c>Upgrade</c> of an absolute-form request.
    /// </summary>
    public bool Tunnel { get; init; }

    /// <summary>True for a tunnel (CONNECT) through an HTTP proxy, false for a direct, absolute-form or SOCKS connection.</summary>
    public bool IsTunnel => Proxy is not null && (IsSsl || Tunnel) && !IsSocks;

    /// <summary>True when requests on this connection go to an HTTP proxy in absolute form (plain http through it).</summary>
    public bool IsAbsoluteForm => Proxy is not null && !IsSsl && !Tunnel && !IsSocks;

    /// <summary>True through a SOCKS proxy: after its handshake the connection is the origin's, as a direct one.</summary>
    public bool IsSocks => Proxy is { } proxy && proxy.StartsWith("socks", StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => $"{(IsSsl ? "https" : "http")}://{Host}:{Port}{(Proxy is null ? "" : " via " + Proxy)}";

    internal IEnumerable<KeyValuePair<string, string>> ProxyHeaderPairs()
    {
        if (ProxyHeaders is null) yield break;
        foreach (var line in ProxyHeaders.Split("\r\n"))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) yield return new(line[..colon], line[(colon + 1)..].TrimStart());
        }
    }

    /// <summary>
    /// What a request sent in absolute form through this proxy adds to its headers: the proxy's own headers and
    /// Proxy-Authorization, each unless <paramref name="given"/> already names it (checked as each is yielded, so
    /// pairs added to <paramref name="given"/> meanwhile count).
    /// </summary>
    internal IEnumerable<KeyValuePair<string, string>> AbsoluteFormProxyHeaders(HeaderCollection given)
    {
        foreach (var pair in ProxyHeaderPairs())
            if (!given.Contains(pair.Key)) yield return pair;
        if (ProxyAuth is { } auth && !given.Contains("Proxy-Authorization")) yield return new("Proxy-Authorization", auth);
    }
}
