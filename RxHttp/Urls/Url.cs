using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RxHttp;

/// <summary>
/// An immutable URL in the canonical form RxHttp sends (yarl's <c>URL</c>): the scheme and host are
/// lower-cased, non-ASCII host names are IDNA-encoded, and the path, query and fragment are requoted so
/// that equal resources compare equal and the request-target is always legal on the wire.
/// </summary>
/// <remarks>
/// Relative references are valid values (<see cref="IsAbsolute"/> is false) because Location headers and
/// <c>ClientSession</c> request paths are relative until joined; only <see cref="RequireHttp"/> insists on
/// a requestable URL. <see cref="System.Uri"/> is not used for parsing because it re-escapes and
/// unescapes differently from aiohttp, which would change what servers see. Resolving, joining and deriving URLs is
/// in Url.Joining.cs.
/// </remarks>
public sealed partial class Url : IEquatable<Url>
{
    private readonly string? _rawUser;
    private readonly string? _rawPassword;
    private readonly bool _hasAuthority;
    private readonly bool _hasQuery;
    private string? _string;

    private Url(string scheme, string? rawUser, string? rawPassword, bool hasAuthority, string host, int? explicitPort,
        string path, bool hasQuery, string query, string? rawFragment, string? canonical)
    {
        Scheme = scheme;
        _rawUser = rawUser;
        _rawPassword = rawPassword;
        _hasAuthority = hasAuthority;
        Host = host;
        ExplicitPort = explicitPort;
        Path = path;
        _hasQuery = hasQuery;
        Query = query;
        RawFragment = rawFragment;
        _string = canonical;
    }

    /// <summary>The scheme in lower case, or "" for a relative reference.</summary>
    public string Scheme { get; }

    /// <summary>The decoded user name, or null when the URL has no user information.</summary>
    public string? User => _rawUser is null ? null : Quoter.Unquote(_rawUser);

    /// <summary>The decoded password, or null when there is none (":" with nothing after it gives "").</summary>
    public string? Password => _rawPassword is null ? null : Quoter.Unquote(_rawPassword);

    /// <summary>The user name as it appears in the URL (percent-encoded).</summary>
    public string? RawUser => _rawUser;

    /// <summary>The password as it appears in the URL (percent-encoded).</summary>
    public string? RawPassword => _rawPassword;

    /// <summary>The host in ASCII form (punycode for international names), lower-case, IPv6 without brackets; "" if none.</summary>
    public string Host { get; }

    /// <summary>The explicit port, else the scheme's default; 0 when neither is known (a relative or non-web URL).</summary>
    public int Port => ExplicitPort ?? DefaultPort(Scheme);

    /// <summary>The port written in the URL, or null.</summary>
    public int? ExplicitPort { get; }

    /// <summary>True when the URL has a scheme, so it needs no base to be resolved.</summary>
    public bool IsAbsolute => Scheme.Length != 0;

    /// <summary>True for https and wss, the schemes that need TLS.</summary>
    public bool IsSecure => Scheme is "https" or "wss";

    /// <summary>The percent-encoded path as sent; at least "/" for a URL with a scheme and a host.</summary>
    public string Path { get; }

    /// <summary>The percent-encoded query without "?", or "" when there is none.</summary>
    public string Query { get; }

    /// <summary>The decoded fragment, or null when the URL has no "#".</summary>
    public string? Fragment => RawFragment is null ? null : Quoter.Unquote(RawFragment);

    /// <summary>The percent-encoded fragment, or null.</summary>
    public string? RawFragment { get; }

    /// <summary>The request-target sent on the request line: the path and, when there is one, "?" and the query.</summary>
    public string PathAndQuery => Query.Length == 0 ? Path : string.Concat(Path, "?", Query);

    /// <summary>
    /// The Host header value: the host, bracketed if IPv6, with ":port" only when it is not the scheme's default. An IPv6
    /// zone ("%25eth0") is left out: it names an interface of this machine, which means nothing to the server (RFC 6874 §4).
    /// </summary>
    public string HostHeader
    {
        get
        {
            // Cached: every request to this URL sends it (the URL is immutable, so a race only builds it twice).
            if (_hostHeader is { } cached) return cached;
            return _hostHeader = WithPort(WireHost(Host));
        }
    }

    private string? _hostHeader;

    /// <summary>scheme://host[:port], what same-origin checks and proxies key on.</summary>
    /// <exception cref="InvalidOperationException">The URL is relative.</exception>
    public string Origin
    {
        get
        {
            if (!IsAbsolute || !_hasAuthority) throw new InvalidOperationException($"'{this}' has no origin: it is not an absolute URL with a host");
            // With the zone, unlike the Host header: the same address on two interfaces is two hosts to this machine.
            return $"{Scheme}://{WithPort(BracketedHost)}";
        }
    }

    private string BracketedHost => Host.Contains(':') ? $"[{Host}]" : Host;

    /// <summary>
    /// The URL as the absolute-form request target sent to a proxy (RFC 9112 §3.2.2): the canonical form, but without
    /// an IPv6 zone, which RFC 6874 §4 says a client must remove from any URI it sends.
    /// </summary>
    internal string AbsoluteForm => Host.Contains('%') ? Format(withZone: false) : ToString();

    /// <summary>
    /// <paramref name="host"/> as it goes on the wire (Host header, absolute form, CONNECT's authority): bracketed if
    /// IPv6, and without a zone ("%25eth0"), which names an interface of this machine and means nothing to the peer.
    /// </summary>
    internal static string WireHost(string host)
    {
        var bare = host.Length > 1 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        if (!bare.Contains(':')) return bare;
        var zone = bare.IndexOf('%');
        return string.Concat("[", zone < 0 ? bare : bare.AsSpan(0, zone), "]");
    }

    private string WithPort(string host) =>
        ExplicitPort is { } p && p != DefaultPort(Scheme) ? $"{host}:{p.ToString(CultureInfo.InvariantCulture)}" : host;

    /// <summary>The default port of the web schemes RxHttp speaks, 0 for any other.</summary>
    public static int DefaultPort(string scheme) => scheme switch
    {
        "http" or "ws" => 80,
        "https" or "wss" => 443,
        _ => 0,
    };

    /// <summary>
    /// Parses an absolute URL or a relative reference and canonicalises it. With <paramref name="encoded"/>
    /// the path, query and fragment are kept byte for byte (aiohttp's <c>encoded=True</c>), for servers that
    /// need a particular encoding.
    /// </summary>
    /// <exception cref="InvalidUrl">The text cannot be a URL: CR, LF or NUL anywhere, a bad host or port.</exception>
    public static Url Parse(string url, bool encoded = false)
    {
        ArgumentNullException.ThrowIfNull(url);
        var parsed = UrlParser.Parse(url, encoded);
        if (!encoded) parsed.Source = url;
        return parsed;
    }

    // The text a requoted URL was parsed from, so a request's Encoded option can still send it byte for byte
    // when the string went through the implicit conversion first.
    internal string? Source { get; private set; }

    /// <summary>Parses a URL that a request can be sent to: see <see cref="RequireHttp"/>.</summary>
    /// <exception cref="InvalidUrl">The URL is malformed or cannot be requested.</exception>
    public static Url ParseAbsolute(string url, bool encoded = false, bool allowWebSocket = true)
    {
        ArgumentNullException.ThrowIfNull(url);
        Url parsed;
        try
        {
            parsed = UrlParser.Parse(url, encoded);
        }
        catch (InvalidUrl e) when (e is not InvalidUrlClientError)
        {
            // Requests report aiohttp's request-level error type so callers can tell them from redirects.
            throw new InvalidUrlClientError(e.Url, e.Description);
        }
        return parsed.RequireHttp(allowWebSocket);
    }

    /// <summary>
    /// Returns this URL if a request can be sent to it: an http, https (or ws, wss) scheme, a host and a
    /// port in 1-65535. Relative references are fine to hold but not to connect to, hence a separate check.
    /// </summary>
    /// <exception cref="InvalidUrlClientError">No scheme, no host or port 0.</exception>
    /// <exception cref="NonHttpUrlClientError">A scheme other than http, https, ws, wss.</exception>
    public Url RequireHttp(bool allowWebSocket = true)
    {
        var text = ToString();
        if (!IsAbsolute) throw new InvalidUrlClientError(text, "no scheme: a request needs an absolute URL");
        var ok = Scheme is "http" or "https" || (allowWebSocket && Scheme is "ws" or "wss");
        if (!ok) throw new NonHttpUrlClientError(text, $"unsupported scheme '{Scheme}'");
        if (!_hasAuthority || Host.Length == 0) throw new InvalidUrlClientError(text, "no host");
        if (ExplicitPort == 0) throw new InvalidUrlClientError(text, "port 0 is not a valid destination");
        return this;
    }

    /// <summary>
    /// Parses <paramref name="url"/>, so string literals can be passed wherever a URL is expected. A null string is a
    /// null URL, so an optional one (<c>Proxy = Environment.GetEnvironmentVariable("PROXY")</c>) can be left unset.
    /// </summary>
    /// <exception cref="InvalidUrl">See <see cref="Parse"/>.</exception>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(url))]
    public static implicit operator Url?(string? url) => url is null ? null : Parse(url);

    /// <summary>Converts a <see cref="System.Uri"/>; an absolute one is taken in its escaped form and requoted.</summary>
    public static Url FromUri(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return Parse(uri.IsAbsoluteUri ? uri.AbsoluteUri : uri.OriginalString);
    }

    /// <summary>
    /// The canonical string as a <see cref="System.Uri"/>, with path and query canonicalisation disabled so that
    /// Uri does not re-escape or unescape what was sent (encoded-mode URLs in particular).
    /// </summary>
    /// <remarks>With that option Uri no longer separates the fragment from the query, so a URL with a fragment
    /// is given to the ordinary Uri parser instead; call <see cref="WithoutFragment"/> first for the exact form sent.</remarks>
    public Uri ToUri()
    {
        var s = ToString();
        if (!IsAbsolute) return new Uri(s, UriKind.Relative);
        // With canonicalisation disabled Uri stops looking for '#', so a fragment would land in Uri.Query.
        // Only then is the ordinary parser used; the canonical form is already what it would produce for
        // requoted URLs, the exception being encoded-mode paths that it may re-escape.
        if (RawFragment is not null) return new Uri(s, UriKind.Absolute);
        return new Uri(s, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
    }

    /// <summary>The canonical form, credentials and fragment included when present.</summary>
    public override string ToString() => _string ??= Format();

    /// <inheritdoc/>
    public bool Equals(Url? other) => other is not null && string.Equals(ToString(), other.ToString(), StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Url u && Equals(u);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

    /// <summary>Compares canonical forms.</summary>
    public static bool operator ==(Url? a, Url? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Compares canonical forms.</summary>
    public static bool operator !=(Url? a, Url? b) => !(a == b);

    private static Url Build(string scheme, string? user, string? password, bool hasAuthority, string host, int? port,
        string path, bool hasQuery, string query, string? fragment)
    {
        if (scheme.Length != 0 && hasAuthority && path.Length == 0) path = "/";
        return new Url(scheme, user, password, hasAuthority, host, port, path, hasQuery, query, fragment, null);
    }

    internal static Url Create(string scheme, string? user, string? password, bool hasAuthority, string host, int? port,
        string path, bool hasQuery, string query, string? fragment, string? canonical)
        => new(scheme, user, password, hasAuthority, host, port, path, hasQuery, query, fragment, canonical);

    private string Format(bool withZone = true)
    {
        var sb = new StringBuilder(64);
        if (Scheme.Length != 0) sb.Append(Scheme).Append(':');
        if (_hasAuthority)
        {
            sb.Append("//");
            if (_rawUser is not null)
            {
                sb.Append(_rawUser);
                if (_rawPassword is not null) sb.Append(':').Append(_rawPassword);
                sb.Append('@');
            }
            sb.Append(withZone ? BracketedHost : WireHost(Host));
            if (ExplicitPort is { } p) sb.Append(':').Append(p.ToString(CultureInfo.InvariantCulture));
        }
        else if (Path.StartsWith("//", StringComparison.Ordinal))
        {
            // Without an authority a path may not start with "//" (RFC 3986 §3.3): it would read back as a host.
            sb.Append("/.");
        }
        else if (Scheme.Length == 0 && Path.IndexOf(':') is var colon and >= 0 && Path.IndexOf('/') is var slash && (slash < 0 || colon < slash))
        {
            // A colon in the first segment of a relative path would read back as a scheme (RFC 3986 §4.2; requoting
            // can make one, "a%41:b" becoming "aA:b"): a "./" keeps it a path.
            sb.Append("./");
        }
        sb.Append(Path);
        // An empty "?" carries nothing, so the canonical form drops it (yarl does the same).
        if (Query.Length != 0) sb.Append('?').Append(Query);
        if (RawFragment is not null) sb.Append('#').Append(RawFragment);
        return sb.ToString();
    }

    internal static string NormalizeHost(string original, string host, bool bracketed)
    {
        if (bracketed)
        {
            var zone = host.IndexOf('%');
            var addrPart = zone < 0 ? host : host[..zone];
            if (!IPAddress.TryParse(addrPart, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
                throw new InvalidUrl(original, $"invalid IPv6 address '{host}'");
            if (zone >= 0 && !IsZoneId(SocketHost(host).AsSpan(zone + 1)))
                throw new InvalidUrl(original, $"invalid IPv6 zone in '{host}': RFC 6874 allows letters, digits, '-', '.', '_', '~' and %-escapes");
            var canonical = new IPAddress(ip.GetAddressBytes()).ToString();
            return zone < 0 ? canonical : canonical + host[zone..];
        }
        // Only the characters a DNS name can hold (RFC 3986's other sub-delimiters, "~" and empty labels are refused:
        // no name resolves with them, and System.Uri, which the cookie jar is given the URL as, cannot hold them either).
        var needsLower = false;
        var nonAscii = false;
        var label = 0;
        for (var i = 0; i < host.Length; i++)
        {
            var c = host[i];
            if (c == '.')
            {
                if (label == 0) throw new InvalidUrl(original, $"empty label in host '{host}'");
                label = 0;
                continue;
            }
            label++;
            if (c >= 128) { nonAscii = true; continue; }
            if (c is >= 'A' and <= 'Z') { needsLower = true; continue; }
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_') continue;
            throw new InvalidUrl(original, c == ' ' ? "space in host" : $"invalid character '{Printable(c)}' in host");
        }
        if (nonAscii)
        {
            try
            {
                // IdnMapping instances are not documented as thread-safe, and non-ASCII hosts are rare enough
                // that a fresh one per call costs nothing that matters.
                host = new IdnMapping().GetAscii(host).ToLowerInvariant();
            }
            catch (ArgumentException e)
            {
                throw new InvalidUrl(original, $"host '{host}' is not a valid international domain name: {e.Message}");
            }
        }
        else if (needsLower)
        {
            host = host.ToLowerInvariant();
        }
        // System.Uri has quirks of its own past plain names ("1.-" and a 75-digit name fail, "a.-1" passes, and UTS 46
        // maps a full-width '!' to '!'), so it is asked about any other host rather than failing later in the cookie jar.
        if (!IsPlainHost(host) && !Uri.TryCreate("http://" + host + "/", UriKind.Absolute, out _))
            throw new InvalidUrl(original, $"invalid host '{host}'");
        return host;
    }

    // Labels of 1-63 letters, digits, '-' and '_' that do not start with '-', all-digit ones of at most three digits
    // (an IPv4 address): every such name is one System.Uri takes, and checking costs no allocation.
    private static bool IsPlainHost(string host)
    {
        var start = 0;
        while (start < host.Length)
        {
            var end = host.IndexOf('.', start);
            if (end < 0) end = host.Length;
            var label = host.AsSpan(start, end - start);
            if (label.IsEmpty || label.Length > 63 || label[0] == '-') return false;
            var digits = true;
            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
                digits &= char.IsAsciiDigit(c);
            }
            if (digits && label.Length > 3) return false;
            start = end + 1;
        }
        return true;
    }

    // RFC 6874: ZoneID = 1*( unreserved / pct-encoded ), here after the escapes are undone (SocketHost).
    private static bool IsZoneId(ReadOnlySpan<char> zone)
    {
        if (zone.IsEmpty) return false;
        foreach (var c in zone)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~')) return false;
        return true;
    }

    /// <summary>
    /// The host as <see cref="IPAddress"/> parses it. RFC 6874 writes the '%' before an IPv6 zone as "%25", but
    /// IPAddress reads "fe80::1%25eth0" as scope 0 and "fe80::1%254" as interface 254, so the connection would leave
    /// by no interface or the wrong one. The bare '%' that ip(8) and IPAddress.ToString() write is taken as it is
    /// (curl reads both forms the same way).
    /// </summary>
    internal static string SocketHost(string host)
    {
        var pct = host.IndexOf('%');
        if (pct < 0 || host.Length - pct <= 3 || host[pct + 1] != '2' || host[pct + 2] != '5') return host;
        return string.Concat(host.AsSpan(0, pct + 1), Quoter.Unquote(host[(pct + 3)..]));
    }

    internal static string Printable(char c) => c < 32 || c == 127 ? $"\\x{(int)c:X2}" : c.ToString();
}
