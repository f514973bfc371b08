using System.Net;
using System.Text;

namespace RxHttp;

/// <summary>
/// A proxy: its URL, optional credentials, and extra headers for an HTTP proxy. Through an <c>http://</c> proxy plain
/// http requests go in absolute form with the credentials as Basic <c>Proxy-Authorization</c>, and https and wss
/// requests open a <c>CONNECT</c> tunnel and run TLS to the origin inside it (ws handshakes take a tunnel too). Through a SOCKS proxy
/// (<c>socks5://</c>, <c>socks5h://</c>, <c>socks4://</c>, <c>socks4a://</c>, port 1080 unless named; the <c>h</c>
/// and <c>a</c> forms let the proxy resolve the host name) every request runs over the connection its handshake
/// opens, as over a direct one; SOCKS5 sends the credentials as username and password (RFC 1929), SOCKS4 the user
/// name as its user id. aiohttp takes http:// proxies only; HttpClient and curl take these SOCKS forms too.
/// </summary>
public sealed class ProxySettings
{
    /// <summary>Creates the settings. Credentials in <paramref name="url"/> are used when <paramref name="auth"/> is null.</summary>
    /// <exception cref="ArgumentException">The URL is not an absolute http://, socks5://, socks5h://, socks4:// or socks4a:// URL.</exception>
    public ProxySettings(Url url, NetworkCredential? auth = null, IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        var socks = SocksHandshake.IsSocks(url.Scheme);
        if (!url.IsAbsolute || (url.Scheme != "http" && !socks) || url.Host.Length == 0)
            throw new ArgumentException($"Only http://, socks5://, socks5h://, socks4:// and socks4a:// proxies are supported: '{url}'.", nameof(url));
        if (auth is null && url.User is not null) auth = new NetworkCredential(url.User, url.Password ?? "");
        url = url.WithoutCredentials();
        // A SOCKS URL without a port means the protocol's own (an http:// one has 80 already).
        if (socks && url.Port == 0) url = Url.Parse($"{url.Scheme}://{(url.Host.Contains(':') ? "[" + url.Host + "]" : url.Host)}:{SocksHandshake.DefaultPort}/");
        Url = url;
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

/// <summary>
/// aiohttp's <c>trust_env</c>: proxies from <c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c>, <c>WS_PROXY</c>, <c>WSS_PROXY</c>,
/// else <c>ALL_PROXY</c> (as curl and HttpClient read it; a SOCKS URL is the usual value there), and <c>NO_PROXY</c>.
/// A proxy URL without credentials takes the ones <c>credentialsFor</c> finds (netrc, as in aiohttp).
/// Under CGI (<c>REQUEST_METHOD</c> or <c>GATEWAY_INTERFACE</c> set) upper-case <c>HTTP_PROXY</c> is ignored.
/// </summary>
internal static class ProxyEnvironment
{
    /// <summary>The proxy for <paramref name="url"/> from <paramref name="env"/>, or null (unset, bypassed or of a scheme RxHttp does not speak).</summary>
    /// <param name="url">The request's URL.</param>
    /// <param name="env">Reads an environment variable.</param>
    /// <param name="credentialsFor">Credentials for a proxy host whose URL names none (the session's netrc look-up), or null.</param>
    public static ProxySettings? For(Url url, Func<string, string?> env, Func<string, NetworkCredential?>? credentialsFor = null)
    {
        // Lower case wins over upper case, as in Python's urllib.getproxies_environment.
        string? Get(string name) => NonEmpty(env(name.ToLowerInvariant())) ?? NonEmpty(env(name.ToUpperInvariant()));
        // httpoxy (CVE-2016-1000110): under CGI the client's "Proxy:" header arrives as HTTP_PROXY, so there only
        // the lower-case name counts, as in urllib (aiohttp reads it), HttpClient and curl.
        var cgi = env("REQUEST_METHOD") is not null || env("GATEWAY_INTERFACE") is not null;
        var own = cgi && url.Scheme == "http" ? NonEmpty(env("http_proxy")) : Get(url.Scheme + "_proxy");
        var value = own ?? Get("all_proxy");
        if (value is null || Bypass(url, Get("no_proxy"))) return null;
        try
        {
            // "host:port" with no scheme is an http proxy to curl and HttpClient; read as a URL it would be ignored.
            var proxy = new ProxySettings(Url.Parse(value.Contains("://", StringComparison.Ordinal) ? value : "http://" + value));
            // aiohttp's proxies_from_env: an http proxy named without credentials takes its host's netrc entry.
            if (proxy.Auth is null && proxy.Url.Scheme == "http" && credentialsFor?.Invoke(proxy.Url.Host) is { } found)
                proxy = new ProxySettings(proxy.Url, found);
            return proxy;
        }
        catch (Exception e) when (e is ArgumentException or InvalidUrl)
        {
            // aiohttp ignores (with a warning) proxies it cannot use rather than failing every request.
            return null;
        }
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    // urllib's proxy_bypass_environment: '*' bypasses all; an entry matches the host, a subdomain of it,
    // or host:port; a leading dot is ignored. An IPv6 address matches in any spelling, bare ("::1", as urllib takes
    // it) or bracketed ("[::1]", "[::1]:8080", as HttpClient, curl and Go write it).
    internal static bool Bypass(Url url, string? noProxy)
    {
        if (noProxy is null) return false;
        var host = url.Host.Trim('[', ']').ToLowerInvariant();
        var port = url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var hostPort = host + ":" + port;
        foreach (var raw in noProxy.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw == "*") return true;
            var entry = raw.TrimStart('.').ToLowerInvariant();
            if (entry.Length == 0) continue;
            if (Ipv6Entry(entry) is var (address, entryPort))
            {
                if (SameIpv6(host, address) && (entryPort is null || entryPort == port)) return true;
                continue;
            }
            var candidate = entry.Contains(':') ? hostPort : host;
            if (candidate == entry || candidate.EndsWith("." + entry, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    // "[address]" or "[address]:port", else a bare address with more than one colon (one colon is host:port).
    private static (string Address, string? Port)? Ipv6Entry(string entry)
    {
        if (entry[0] == '[')
        {
            var close = entry.IndexOf(']');
            if (close < 0) return null;
            var rest = entry[(close + 1)..];
            if (rest.Length != 0 && rest[0] != ':') return null;
            return (entry[1..close], rest.Length == 0 ? null : rest[1..]);
        }
        return entry.IndexOf(':') != entry.LastIndexOf(':') ? (entry, null) : null;
    }

    // By the address bytes: "0:0::1" is "::1", and a zone on the request's host ("fe80::1%25eth0") does not count.
    private static bool SameIpv6(string host, string address) =>
        IPAddress.TryParse(Url.SocketHost(host), out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        && IPAddress.TryParse(address, out var b) && b.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        && a.GetAddressBytes().AsSpan().SequenceEqual(b.GetAddressBytes());
}
