using System.Net;
using System.Text;

namespace RxHttp;

/// <summary>
/// An HTTP proxy: its URL (http:// only, as aiohttp), optional Basic credentials sent as
/// <c>Proxy-Authorization</c>, and extra headers for the proxy. Plain http requests go to the proxy in
/// absolute form; https and wss requests open a <c>CONNECT</c> tunnel and run TLS to the origin inside it.
/// </summary>
public sealed class ProxySettings
{
    /// <summary>Creates the settings. Credentials in <paramref name="url"/> are used when <paramref name="auth"/> is null.</summary>
    /// <exception cref="ArgumentException">The URL is not an absolute http:// URL.</exception>
    public ProxySettings(Url url, NetworkCredential? auth = null, IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsolute || url.Scheme != "http" || url.Host.Length == 0)
            throw new ArgumentException($"Only http:// proxies are supported: '{url}'.", nameof(url));
        if (auth is null && url.User is not null) auth = new NetworkCredential(url.User, url.Password ?? "");
        Url = url.WithoutCredentials();
        Auth = auth;
        // HeaderCollection validates names and values, so nothing can smuggle a CRLF into the CONNECT head.
        Headers = headers is null ? new HeaderCollection().MakeReadOnly() : new HeaderCollection(headers).MakeReadOnly();
    }

    /// <summary>The proxy's URL, without credentials.</summary>
    public Url Url { get; }

    /// <summary>Basic credentials for the proxy, or null.</summary>
    public NetworkCredential? Auth { get; }

    /// <summary>Headers sent to the proxy: on the CONNECT request for tunnels, on every request otherwise.</summary>
    public HeaderCollection Headers { get; }

    /// <summary>The <c>Proxy-Authorization</c> value, or null without credentials.</summary>
    public string? AuthorizationHeader => Auth is null
        ? null
        : BasicAuth.Header(Auth.UserName, Auth.Password, Encoding.UTF8);

    /// <summary>The pool key of <paramref name="url"/> through this proxy.</summary>
    internal ConnectionKey KeyFor(Url url, TlsOptions? tls) =>
        new(url.Host, url.Port, url.IsSecure, tls, Url.ToString(), AuthorizationHeader)
        {
            ProxyHeaders = Headers.Count == 0 ? null : Headers.ToString(),
        };

    /// <inheritdoc />
    public override string ToString() => Url.ToString();
}

/// <summary>aiohttp's <c>trust_env</c>: proxies from <c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c>, <c>WS_PROXY</c>, <c>WSS_PROXY</c> and <c>NO_PROXY</c>.</summary>
internal static class ProxyEnvironment
{
    /// <summary>The proxy for <paramref name="url"/> from <paramref name="env"/>, or null (unset, bypassed or not http://).</summary>
    public static ProxySettings? For(Url url, Func<string, string?> env)
    {
        // Lower case wins over upper case, as in Python's urllib.getproxies_environment.
        string? Get(string name) => NonEmpty(env(name.ToLowerInvariant())) ?? NonEmpty(env(name.ToUpperInvariant()));
        var value = Get(url.Scheme + "_proxy");
        if (value is null || Bypass(url, Get("no_proxy"))) return null;
        try
        {
            return new ProxySettings(Url.Parse(value));
        }
        catch (Exception e) when (e is ArgumentException or InvalidUrl)
        {
            // aiohttp ignores (with a warning) proxies it cannot use rather than failing every request.
            return null;
        }
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    // urllib's proxy_bypass_environment: '*' bypasses all; an entry matches the host, a subdomain of it,
    // or host:port; a leading dot is ignored.
    internal static bool Bypass(Url url, string? noProxy)
    {
        if (noProxy is null) return false;
        var host = url.Host.Trim('[', ']').ToLowerInvariant();
        var hostPort = host + ":" + url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var raw in noProxy.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw == "*") return true;
            var entry = raw.TrimStart('.').ToLowerInvariant();
            if (entry.Length == 0) continue;
            var candidate = entry.Contains(':') && !entry.Contains("::") && !entry.StartsWith('[') ? hostPort : host;
            if (candidate == entry || candidate.EndsWith("." + entry, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
