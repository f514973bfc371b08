using System.Text;

namespace RxHttp;

/// <summary>RFC 6265's matching rules as the jar applies them: domain, path, expiry, and aiohttp's value quoting.</summary>
public sealed partial class CookieJar
{
    /// <summary>§5.3 steps 4-6: which domain a cookie belongs to, and whether it is host-only; false rejects it.</summary>
    private static bool TryResolveDomain(string? attribute, string host, bool hostIsIp, out string domain, out bool hostOnly)
    {
        domain = host;
        hostOnly = true;
        // A trailing dot is not stripped (aiohttp treats such a Domain as absent): "example.com." is another
        // name than the request host "example.com", so it fails the domain-match below and the cookie is ignored
        // (§5.3 step 6), as browsers do.
        if (attribute is null) return true;

        string d;
        try
        {
            d = new System.Globalization.IdnMapping().GetAscii(attribute).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return false;
        }

        if (hostIsIp)
        {
            // An IP address has no parent domains: only the address itself is acceptable.
            if (d != host) return false;
            hostOnly = false;
            return true;
        }

        if (PublicSuffixes.IsPublicSuffix(d))
        {
            // §5.3 step 5: a public suffix is allowed only as the exact host, and then only host-only.
            return d == host;
        }

        if (!DomainMatches(host, d)) return false;
        domain = d;
        hostOnly = false;
        return true;
    }

    /// <summary>
    /// RFC 6265bis §5.7 steps 20-21 (names matched case-insensitively): what the prefix promises the server that reads
    /// the cookie. Without it a sibling subdomain could plant a <c>__Host-</c> cookie for the parent domain.
    /// </summary>
    private static bool PrefixAllows(ParsedSetCookie cookie, bool hostOnly, string defaultPath)
    {
        if (cookie.Name.StartsWith("__Secure-", StringComparison.OrdinalIgnoreCase)) return cookie.Secure;
        if (cookie.Name.StartsWith("__Host-", StringComparison.OrdinalIgnoreCase))
            return cookie.Secure && hostOnly && cookie.RawPath is not null && (cookie.Path ?? defaultPath) == "/";
        return true;
    }

    /// <summary>§5.1.3 for host names: <paramref name="host"/> is <paramref name="domain"/> or a subdomain of it.</summary>
    private static bool DomainMatches(string host, string domain) =>
        host == domain ||
        (host.Length > domain.Length && host.EndsWith(domain, StringComparison.Ordinal) && host[host.Length - domain.Length - 1] == '.');

    /// <summary>§5.1.4 path-match.</summary>
    internal static bool PathMatches(string requestPath, string cookiePath)
    {
        if (requestPath == cookiePath) return true;
        if (!requestPath.StartsWith(cookiePath, StringComparison.Ordinal)) return false;
        return cookiePath.EndsWith('/') || requestPath[cookiePath.Length] == '/';
    }

    /// <summary>§5.1.4 default-path: the request path up to, not including, its last '/'; "/" when that leaves nothing.</summary>
    internal static string DefaultPath(Uri url)
    {
        var path = url.AbsolutePath;
        if (!path.StartsWith('/')) return "/";
        int last = path.LastIndexOf('/');
        return last <= 0 ? "/" : path[..last];
    }

    private static string? Parent(string domain)
    {
        int dot = domain.IndexOf('.');
        return dot < 0 || dot == domain.Length - 1 ? null : domain[(dot + 1)..];
    }

    private static DateTimeOffset? ExpiryOf(ParsedSetCookie parsed, DateTimeOffset now)
    {
        if (parsed.MaxAge is { } seconds)
        {
            // §5.2.2: Max-Age wins over Expires, and zero or less means "already expired".
            if (seconds <= 0) return DateTimeOffset.MinValue;
            var room = (DateTimeOffset.MaxValue - now).TotalSeconds;
            return seconds >= room ? DateTimeOffset.MaxValue : now.AddSeconds(seconds);
        }
        return parsed.Expires;
    }

    private static string RequireHost(Uri url, string paramName)
    {
        ArgumentNullException.ThrowIfNull(url, paramName);
        if (!url.IsAbsoluteUri) throw new ArgumentException("The URL must be absolute.", paramName);
        return CanonicalHost(url);
    }

    /// <summary>§5.1.2: lower case, punycode; IPv6 without brackets so it compares with a Domain attribute.</summary>
    private static string CanonicalHost(Uri url) =>
        url.HostNameType == UriHostNameType.IPv6 ? url.DnsSafeHost.ToLowerInvariant() : url.IdnHost.ToLowerInvariant();

    private static bool IsIp(Uri url) => url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6;

    private static (string, string, int) Origin(Uri url) => (url.Scheme.ToLowerInvariant(), CanonicalHost(url), url.Port);

    // Python's http.cookies rules, so quoted values match what aiohttp sends byte for byte.
    private const string LegalChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~:";
    private const string UnescapedChars = LegalChars + " ()/<=>?@[]{}";

    /// <summary>Python's <c>http.cookies._quote</c>: tokens stay bare; others are quoted with \" \\ and \ooo escapes.</summary>
    internal static string Quote(string value)
    {
        // Python's legal-key pattern needs at least one character, so an empty value goes out as "".
        bool legal = value.Length > 0;
        foreach (var c in value) if (!LegalChars.Contains(c)) { legal = false; break; }
        if (legal) return value;

        var sb = new StringBuilder(value.Length + 8).Append('"');
        foreach (var c in value)
        {
            if (c == '"') sb.Append("\\\"");
            else if (c == '\\') sb.Append("\\\\");
            else if (c > '\u00FF' || UnescapedChars.Contains(c)) sb.Append(c);
            else sb.Append('\\').Append(Convert.ToString(c, 8).PadLeft(3, '0'));
        }
        return sb.Append('"').ToString();
    }
}
