namespace RxHttp;

/// <summary>Settings of a <see cref="ProxyConnector"/>: a <see cref="TcpConnector"/> whose requests all go through one proxy.</summary>
public class ProxyConnectorOptions : TcpConnectorOptions
{
    /// <summary>Proxied connections are not pooled by default (the 0.16 API's choice); set false to pool them.</summary>
    public ProxyConnectorOptions() => ForceClose = true;
}

/// <summary>
/// A <see cref="TcpConnector"/> that sends every request through <see cref="Proxy"/> unless the request names
/// its own (<see cref="RequestOptions.Proxy"/>). Plain http goes to the proxy in absolute form; https and wss
/// open a <c>CONNECT</c> tunnel and run TLS to the origin inside it, and ws opens one too (without TLS). A refused CONNECT fails with
/// <see cref="ClientHttpProxyError"/> (its <c>Status</c> is the proxy's, 407 for bad credentials); an
/// unreachable proxy with <see cref="ClientProxyConnectionError"/>.
/// </summary>
public class ProxyConnector : TcpConnector
{
    /// <summary>Creates the connector. <see cref="ProxyConnectorOptions"/> close connections after each response by default.</summary>
    public ProxyConnector(ProxySettings proxy, ProxyConnectorOptions? options = null) : base(options ?? new ProxyConnectorOptions())
    {
        ArgumentNullException.ThrowIfNull(proxy);
        Proxy = proxy;
    }

    /// <summary>Creates the connector for the proxy at <paramref name="proxyUrl"/> (credentials in the URL are used as Basic auth).</summary>
    public ProxyConnector(Url proxyUrl, System.Net.NetworkCredential? proxyAuth = null, ProxyConnectorOptions? options = null)
        : this(new ProxySettings(proxyUrl, proxyAuth), options) { }

    /// <summary>The proxy every request uses unless it names its own.</summary>
    public ProxySettings Proxy { get; }

    internal override ProxySettings? DefaultProxy => Proxy;
}
