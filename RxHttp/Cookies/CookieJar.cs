using System.Globalization;
using System.Net.Sockets;
using System.Reactive.Concurrency;
using System.Text;
using System.Text.Json;

namespace RxHttp;

/// <summary>
/// An RFC 6265 cookie store with aiohttp's CookieJar behaviour: host-only and domain cookies, path and secure
/// matching, Max-Age/Expires expiry on the scheduler's clock, no cookies from IP-address hosts unless
/// <see cref="Unsafe"/>, and JSON save/load. Thread-safe: a session's requests may share one jar.
/// </summary>
/// <remarks>
/// Public suffixes: a Domain attribute that is a public suffix under the embedded Public Suffix List (ICANN and
/// private sections, wildcard and exception rules, as browsers use it; "com", "co.uk", "github.io", any single
/// label such as "localhost") is rejected unless it equals the response host, in which case the cookie becomes
/// host-only (RFC 6265 §5.3 step 5). A Domain that does not domain-match the host, a trailing dot included, makes
/// the cookie ignored (step 6).
/// </remarks>
public sealed class CookieJar : AbstractCookieJar
{
    private readonly object _gate = new();
    private readonly IScheduler _scheduler;
    private readonly bool _quoteCookie;
    private readonly HashSet<(string Scheme, string Host, int Port)> _secureOrigins = new();
    // Keyed by domain first so FilterCookies looks up only the request host's parent domains, like aiohttp.
    private readonly Dictionary<string, Dictionary<(string Path, string Name), Entry>> _byDomain = new(StringComparer.Ordinal);
    private DateTimeOffset _nextExpiry = DateTimeOffset.MaxValue;
    private long _sequence;

    // The sequence number orders cookies created at the same clock reading, which is every cookie of a
    // response and anything under a paused virtual clock.
    private sealed record Entry(Cookie Cookie, long Sequence);

    /// <summary>Creates an empty jar.</summary>
    /// <param name="allowIpHosts">aiohttp's <c>unsafe</c>: accept and send cookies for IP-address hosts.</param>
    /// <param name="treatAsSecureOrigin">Origins (scheme, host, port) that get Secure cookies although they are not https/wss, e.g. <c>http://127.0.0.1:8080</c>.</param>
    /// <param name="quoteCookie">Double-quote preloaded values that are not plain tokens, as Python's SimpleCookie does.</param>
    /// <param name="scheduler">The clock for creation and expiry; <see cref="Scheduler.Default"/> when null.</param>
    public CookieJar(bool allowIpHosts = false, IEnumerable<Uri>? treatAsSecureOrigin = null, bool quoteCookie = true, IScheduler? scheduler = null)
    {
        Unsafe = allowIpHosts;
        _quoteCookie = quoteCookie;
        _scheduler = scheduler ?? Scheduler.Default;
        if (treatAsSecureOrigin is not null)
        {
            foreach (var origin in treatAsSecureOrigin)
            {
                if (origin is null || !origin.IsAbsoluteUri)
                    throw new ArgumentException("Secure origins must be absolute URLs such as http://127.0.0.1:8080.", nameof(treatAsSecureOrigin));
                _secureOrigins.Add(Origin(origin));
            }
        }
    }

    /// <summary>True when cookies are accepted from and sent to IP-address hosts (aiohttp's <c>unsafe</c>).</summary>
    public bool Unsafe { get; }

    /// <inheritdoc />
    public override bool QuoteCookie => _quoteCookie;

    /// <inheritdoc />
    public override int Count
    {
        get
        {
            lock (_gate)
            {
                Expire();
                return _byDomain.Values.Sum(d => d.Count);
            }
        }
    }

    /// <inheritdoc />
    public override void UpdateCookies(IEnumerable<string> setCookieHeaderValues, Uri responseUrl)
    {
        ArgumentNullException.ThrowIfNull(setCookieHeaderValues);
        var host = RequireHost(responseUrl, nameof(responseUrl));
        bool isIp = IsIp(responseUrl);
        if (host.Length == 0 || (isIp && !Unsafe)) return;
        var defaultPath = DefaultPath(responseUrl);

        lock (_gate)
        {
            var now = _scheduler.Now;
            foreach (var header in setCookieHeaderValues)
            {
                var parsed = SetCookieParser.Parse(header);
                if (parsed is null) continue;
                if (!TryResolveDomain(parsed.Domain, host, isIp, out var domain, out var hostOnly)) continue;

                Store(now, new Cookie(parsed.Name, parsed.Value)
                {
                    Domain = domain,
                    Path = parsed.Path ?? defaultPath,
                    Expires = ExpiryOf(parsed, now),
                    MaxAge = parsed.MaxAge,
                    Secure = parsed.Secure,
                    HttpOnly = parsed.HttpOnly,
                    SameSite = parsed.SameSite,
                    HostOnly = hostOnly,
                });
            }
            Expire();
        }
    }

    /// <inheritdoc />
    public override void UpdateCookies(IEnumerable<KeyValuePair<string, string>> cookies, Uri? responseUrl = null)
    {
        ArgumentNullException.ThrowIfNull(cookies);
        string domain = "", path = "/";
        bool hostOnly = false;
        if (responseUrl is not null)
        {
            domain = RequireHost(responseUrl, nameof(responseUrl));
            if (domain.Length == 0 || (IsIp(responseUrl) && !Unsafe)) return;
            path = DefaultPath(responseUrl);
            hostOnly = true;
        }

        lock (_gate)
        {
            var now = _scheduler.Now;
            foreach (var (name, value) in cookies)
            {
                // Bad pairs are skipped like bad Set-Cookie headers, so one odd entry cannot fail a whole session.
                if (name is null || value is null || !SetCookieParser.IsValidName(name)) continue;
                var coded = _quoteCookie ? Quote(value) : value;
                if (!_quoteCookie && !SetCookieParser.IsValidValue(value)) continue;
                Store(now, new Cookie(name, coded) { Domain = domain, Path = path, HostOnly = hostOnly });
            }
        }
    }

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, string>> FilterCookies(Uri requestUrl)
    {
        var host = RequireHost(requestUrl, nameof(requestUrl));
        bool isIp = IsIp(requestUrl);
        var requestPath = requestUrl.AbsolutePath.StartsWith('/') ? requestUrl.AbsolutePath : "/";
        var scheme = requestUrl.Scheme.ToLowerInvariant();
        bool secure = scheme is "https" or "wss" || _secureOrigins.Contains(Origin(requestUrl));

        var matched = new List<Entry>();
        lock (_gate)
        {
            if (_byDomain.Count == 0) return Array.Empty<KeyValuePair<string, string>>();
            Expire();

            if (_byDomain.TryGetValue("", out var shared)) matched.AddRange(shared.Values);

            if (host.Length > 0 && (!isIp || Unsafe))
            {
                // Only the host itself and its parent domains can domain-match; an IP matches only itself (§5.1.3).
                for (var candidate = host; candidate is not null; candidate = isIp ? null : Parent(candidate))
                {
                    if (!_byDomain.TryGetValue(candidate, out var cookies)) continue;
                    foreach (var entry in cookies.Values)
                    {
                        var c = entry.Cookie;
                        if (c.HostOnly && c.Domain != host) continue;
                        if (c.Secure && !secure) continue;
                        if (!PathMatches(requestPath, c.Path)) continue;
                        matched.Add(entry);
                    }
                }
            }
        }

        // §5.4 step 2. Shared cookies carry path "/" and take their place by the same rule.
        matched.Sort(static (a, b) =>
        {
            int byPath = b.Cookie.Path.Length.CompareTo(a.Cookie.Path.Length);
            if (byPath != 0) return byPath;
            int byTime = a.Cookie.CreationTime.CompareTo(b.Cookie.CreationTime);
            return byTime != 0 ? byTime : a.Sequence.CompareTo(b.Sequence);
        });
        var result = new KeyValuePair<string, string>[matched.Count];
        for (int i = 0; i < result.Length; i++) result[i] = new(matched[i].Cookie.Name, matched[i].Cookie.Value);
        return result;
    }

    /// <inheritdoc />
    public override void Clear(Func<Cookie, bool>? predicate = null)
    {
        lock (_gate)
        {
            if (predicate is null)
            {
                _byDomain.Clear();
                _nextExpiry = DateTimeOffset.MaxValue;
                return;
            }
            Expire();
            RemoveWhere(predicate);
        }
    }

    /// <inheritdoc />
    public override void ClearDomain(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var d = domain.StartsWith('.') ? domain[1..] : domain;
        d = d.ToLowerInvariant();
        if (d.Length == 0) return;
        // An IP-address cookie has no parent domains, so only the exact address clears it (aiohttp's _is_domain_match).
        Clear(c => c.Domain.Length > 0 &&
                   (c.Domain == d || (Uri.CheckHostName(c.Domain) is not (UriHostNameType.IPv4 or UriHostNameType.IPv6) && DomainMatches(c.Domain, d))));
    }

    /// <inheritdoc />
    public override IEnumerator<Cookie> GetEnumerator()
    {
        List<Entry> snapshot;
        lock (_gate)
        {
            Expire();
            snapshot = _byDomain.Values.SelectMany(d => d.Values).ToList();
        }
        return snapshot.OrderBy(e => e.Sequence).Select(e => e.Cookie).GetEnumerator();
    }

    /// <summary>
    /// Writes the unexpired cookies to <paramref name="path"/> as JSON. On Unix the file gets mode 600 because
    /// cookies are credentials; it is written beside the target and moved over it, so an existing file with
    /// wider permissions is replaced rather than reused.
    /// </summary>
    /// <param name="path">The file to write.</param>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        List<Entry> entries;
        lock (_gate)
        {
            Expire();
            entries = _byDomain.Values.SelectMany(d => d.Values).OrderBy(e => e.Sequence).ToList();
        }
        var file = new CookieFile
        {
            Version = CookieFile.CurrentVersion,
            Cookies = entries.Select(e => CookieRecord.From(e.Cookie)).ToList(),
        };

        var full = System.IO.Path.GetFullPath(path);
        var temp = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var stream = new FileStream(temp, options))
                JsonSerializer.Serialize(stream, file, CookieFileJsonContext.Default.CookieFile);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Replaces the jar's contents with the cookies saved at <paramref name="path"/> by <see cref="Save"/>.
    /// Cookies that have expired since are dropped.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <exception cref="InvalidDataException">The file is not a cookie jar saved by this class; the jar is left unchanged.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public void Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        CookieFile? file;
        try
        {
            using var stream = File.OpenRead(path);
            file = JsonSerializer.Deserialize(stream, CookieFileJsonContext.Default.CookieFile);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a saved cookie jar.", e);
        }
        if (file?.Cookies is null || file.Version != CookieFile.CurrentVersion)
            throw new InvalidDataException($"'{path}' is not a saved cookie jar of version {CookieFile.CurrentVersion}.");

        var cookies = new List<Cookie>(file.Cookies.Count);
        foreach (var r in file.Cookies)
            cookies.Add(r?.ToCookie() ?? throw new InvalidDataException($"'{path}' holds a cookie without a name, value, domain or path."));

        lock (_gate)
        {
            _byDomain.Clear();
            _nextExpiry = DateTimeOffset.MaxValue;
            // Keep saved creation times: they decide send order, and the file order preserves ties.
            foreach (var c in cookies) Insert(c);
            Expire();
        }
    }

    // ---- storage (callers hold _gate) ----

    private void Store(DateTimeOffset now, Cookie cookie)
    {
        var key = (cookie.Path, cookie.Name);
        var domainCookies = _byDomain.TryGetValue(cookie.Domain, out var existing) ? existing : null;
        // §5.3 step 11: a replacement keeps the old cookie's creation time, and so its place in send order.
        var creation = domainCookies is not null && domainCookies.TryGetValue(key, out var old) ? old.Cookie.CreationTime : now;
        var stored = CopyWithCreation(cookie, creation);

        if (stored.Expires is { } expires && expires <= now)
        {
            // An expiry in the past is how servers delete a cookie (Max-Age=0, Expires=1970...).
            if (domainCookies is not null && domainCookies.Remove(key) && domainCookies.Count == 0) _byDomain.Remove(cookie.Domain);
            return;
        }
        Insert(stored);
    }

    private void Insert(Cookie cookie)
    {
        if (!_byDomain.TryGetValue(cookie.Domain, out var domainCookies))
            _byDomain[cookie.Domain] = domainCookies = new Dictionary<(string, string), Entry>();
        var key = (cookie.Path, cookie.Name);
        var sequence = domainCookies.TryGetValue(key, out var old) ? old.Sequence : ++_sequence;
        domainCookies[key] = new Entry(cookie, sequence);
        if (cookie.Expires is { } e && e < _nextExpiry) _nextExpiry = e;
    }

    /// <summary>Drops expired cookies; cheap when nothing can have expired since the last sweep.</summary>
    private void Expire()
    {
        var now = _scheduler.Now;
        if (now < _nextExpiry) return;
        RemoveWhere(c => c.Expires is { } e && e <= now);
        _nextExpiry = DateTimeOffset.MaxValue;
        foreach (var d in _byDomain.Values)
            foreach (var entry in d.Values)
                if (entry.Cookie.Expires is { } e && e < _nextExpiry) _nextExpiry = e;
    }

    private void RemoveWhere(Func<Cookie, bool> predicate)
    {
        List<string>? emptyDomains = null;
        foreach (var (domain, cookies) in _byDomain)
        {
            List<(string, string)>? doomed = null;
            foreach (var (key, entry) in cookies)
                if (predicate(entry.Cookie)) (doomed ??= new()).Add(key);
            if (doomed is null) continue;
            foreach (var key in doomed) cookies.Remove(key);
            if (cookies.Count == 0) (emptyDomains ??= new()).Add(domain);
        }
        if (emptyDomains is not null) foreach (var d in emptyDomains) _byDomain.Remove(d);
    }

    private static Cookie CopyWithCreation(Cookie c, DateTimeOffset creation) => new(c.Name, c.Value)
    {
        Domain = c.Domain, Path = c.Path, Expires = c.Expires, MaxAge = c.MaxAge, Secure = c.Secure,
        HttpOnly = c.HttpOnly, SameSite = c.SameSite, HostOnly = c.HostOnly, CreationTime = creation,
    };

    // ---- RFC 6265 rules ----

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
