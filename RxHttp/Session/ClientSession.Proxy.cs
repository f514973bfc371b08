namespace RxHttp;

public sealed partial class ClientSession
{
    // Per hop, so a redirect to a NO_PROXY host goes direct: the session's proxy, the connector's, then the environment's.
    private ProxySettings? DefaultProxyFor(Url url) =>
        SessionOptions.Proxy
        ?? Connector.DefaultProxy
        ?? (SessionOptions.TrustEnv ? ProxyEnvironment.For(url, Environment.GetEnvironmentVariable) : null);

    private static void ApplyProxy(ClientRequest request, RequestOptions options)
    {
        if (options.Proxy is { } proxy)
            request.Properties[Http1Exchange.ProxyProperty] = new ProxySettings(proxy, options.ProxyAuth, options.ProxyHeaders);
    }
}
