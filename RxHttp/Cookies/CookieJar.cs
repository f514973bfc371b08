using System.Reactive.Concurrency;

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
/// the cookie ignored (step 6). As in browsers (RFC 6265bis §5.7), a <c>__Secure-</c> name needs Secure, and a
/// <c>__Host-</c> name needs Secure, no Domain and <c>Path=/</c>; otherwise the cookie is ignored.
/// </remarks>
public sealed partial class CookieJar : AbstractCookieJar
{
    private readonly object _gate = new();
    private IScheduler _scheduler;
    // Made without a scheduler: the first session it is given to lends it its clock, so a session on a virtual
    // clock expires Max-Age cookies in virtual time rather than by the wall clock.
    private bool _adoptsClock;
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
    /// <param name="scheduler">
    /// The clock for creation and expiry. When null, the scheduler of the first <see cref="ClientSession"/> the jar is
    /// given to (<see cref="ClientSessionOptions.CookieJar"/>), and <see cref="Scheduler.Default"/> until then.
    /// </param>
    public CookieJar(bool allowIpHosts = false, IEnumerable<Uri>? treatAsSecureOrigin = null, bool quoteCookie = true, IScheduler? scheduler = null)
    {
        Unsafe = allowIpHosts;
        _quoteCookie = quoteCookie;
        _scheduler = scheduler ?? Scheduler.Default;
        _adoptsClock = scheduler is null;
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

    internal override void AdoptScheduler(IScheduler scheduler)
    {
        lock (_gate)
        {
            if (!_adoptsClock) return;
            _adoptsClock = false;
            _scheduler = scheduler;
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
            // Every request asks: a jar that never held a cookie (an API client's) answers without the lock, which
            // concurrent requests contended for, and without reading the clock.
            if (!_held) return 0;
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
                if (!PrefixAllows(parsed, hostOnly, defaultPath)) continue;

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
        if (d.Length == 0) return;
        // Stored domains are punycode (the request host's IdnHost, a Domain attribute's ASCII form), so a Unicode
        // name is mapped the same way; one that is no domain name at all names no cookie.
        try
        {
            d = new System.Globalization.IdnMapping().GetAscii(d).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return;
        }
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

    // Set by the first cookie ever stored; never reset (an emptied jar takes the locked path, as before).
    private volatile bool _held;

    private void Insert(Cookie cookie)
    {
        _held = true;
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

}
