namespace RxHttp;

// Resolving references (RFC 3986 §5.2), joining a session's base URL, and the URLs derived from this one.
public sealed partial class Url
{
    /// <summary>Resolves <paramref name="reference"/> against this URL as RFC 3986 §5.2 says (strict: a scheme in the reference wins).</summary>
    public Url Join(Url reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var r = reference;
        if (r.IsAbsolute)
            return Build(r.Scheme, r._rawUser, r._rawPassword, r._hasAuthority, r.Host, r.ExplicitPort,
                RemoveDotSegments(r.Path), r._hasQuery, r.Query, r.RawFragment);
        if (r._hasAuthority)
            return Build(Scheme, r._rawUser, r._rawPassword, true, r.Host, r.ExplicitPort,
                RemoveDotSegments(r.Path), r._hasQuery, r.Query, r.RawFragment);
        if (r.Path.Length == 0)
        {
            return r._hasQuery
                ? Build(Scheme, _rawUser, _rawPassword, _hasAuthority, Host, ExplicitPort, Path, true, r.Query, r.RawFragment)
                : Build(Scheme, _rawUser, _rawPassword, _hasAuthority, Host, ExplicitPort, Path, _hasQuery, Query, r.RawFragment);
        }
        string path;
        if (r.Path[0] == '/')
        {
            path = RemoveDotSegments(r.Path);
        }
        else
        {
            // RFC 3986 §5.2.3 merge: a base with an authority and an empty path counts as "/".
            var merged = _hasAuthority && Path.Length == 0
                ? "/" + r.Path
                : string.Concat(Path.AsSpan(0, Path.LastIndexOf('/') + 1), r.Path);
            path = RemoveDotSegments(merged);
        }
        return Build(Scheme, _rawUser, _rawPassword, _hasAuthority, Host, ExplicitPort, path, r._hasQuery, r.Query, r.RawFragment);
    }

    /// <summary>
    /// Combines a session's base URL with a request URL the way aiohttp 3.10+ <c>ClientSession(base_url=...)</c>
    /// does: an absolute <paramref name="url"/> is used as is, a relative one is resolved against the base
    /// path; the base's query and fragment are never carried over.
    /// </summary>
    /// <exception cref="ArgumentException">The base is relative, has no host, or its path does not end with "/"
    /// (without the slash "users" would replace the last base segment instead of going under it).</exception>
    public static Url JoinBase(Url? baseUrl, Url url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (baseUrl is null) return url;
        if (!baseUrl.IsAbsolute || !baseUrl._hasAuthority)
            throw new ArgumentException($"base URL '{baseUrl}' must be absolute", nameof(baseUrl));
        if (!baseUrl.Path.EndsWith('/'))
            throw new ArgumentException($"base URL '{baseUrl}' must have a path ending with '/'", nameof(baseUrl));
        if (url.IsAbsolute) return url;
        var bare = Build(baseUrl.Scheme, baseUrl._rawUser, baseUrl._rawPassword, true, baseUrl.Host,
            baseUrl.ExplicitPort, baseUrl.Path, false, "", null);
        return bare.Join(url);
    }

    /// <summary>
    /// Appends <paramref name="extra"/> to the query: the URL's own parameters come first, as aiohttp does
    /// when <c>params</c> is given with a URL that already has a query. Null or empty params change nothing.
    /// </summary>
    public Url WithQuery(QueryParams? extra)
    {
        if (extra is null) return this;
        var add = extra.Encode();
        if (add.Length == 0) return this;
        var query = Query.Length == 0 ? add : string.Concat(Query, "&", add);
        return Build(Scheme, _rawUser, _rawPassword, _hasAuthority, Host, ExplicitPort, Path, true, query, RawFragment);
    }

    /// <summary>This URL without "#fragment": fragments are never sent and responses report the URL without one.</summary>
    public Url WithoutFragment() => RawFragment is null
        ? this
        : Build(Scheme, _rawUser, _rawPassword, _hasAuthority, Host, ExplicitPort, Path, _hasQuery, Query, null);

    // The same URL with the user and password of another (none when it has none).
    internal Url WithCredentialsOf(Url other) =>
        Build(Scheme, other._rawUser, other._rawPassword, _hasAuthority, Host, ExplicitPort, Path, _hasQuery, Query, RawFragment);

    // The same URL with another fragment (already encoded), or none.
    internal Url WithRawFragment(string? rawFragment) =>
        Build(Scheme, _rawUser, _rawPassword, _hasAuthority, Host, ExplicitPort, Path, _hasQuery, Query, rawFragment);

    /// <summary>This URL without user and password, for the request line, logs and Referer-like uses.</summary>
    public Url WithoutCredentials() => _rawUser is null && _rawPassword is null
        ? this
        : Build(Scheme, null, null, _hasAuthority, Host, ExplicitPort, Path, _hasQuery, Query, RawFragment);

    /// <summary>True when scheme, host and port are equal, the test for keeping credentials across redirects.</summary>
    public bool IsSameOrigin(Url other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Scheme == other.Scheme && Host == other.Host && Port == other.Port;
    }

    /// <summary>RFC 3986 §5.2.4, on the encoded path (escaped dots were already decoded by requoting).</summary>
    internal static string RemoveDotSegments(string path)
    {
        if (!HasDotSegment(path)) return path;
        var absolute = path.StartsWith('/');
        var segments = path.Split('/');
        var output = new List<string>(segments.Length);
        // For an absolute path the first segment is the "" before the leading slash, re-added below.
        for (var i = absolute ? 1 : 0; i < segments.Length; i++)
        {
            var seg = segments[i];
            var last = i == segments.Length - 1;
            if (seg == ".")
            {
                if (last) output.Add("");
            }
            else if (seg == "..")
            {
                if (output.Count > 0) output.RemoveAt(output.Count - 1);
                if (last) output.Add("");
            }
            else
            {
                output.Add(seg);
            }
        }
        var result = string.Join('/', output);
        return absolute ? "/" + result : result;
    }

    internal static bool HasDotSegment(string path)
    {
        var start = 0;
        while (start <= path.Length)
        {
            var end = path.IndexOf('/', start);
            if (end < 0) end = path.Length;
            var len = end - start;
            if ((len == 1 && path[start] == '.') || (len == 2 && path[start] == '.' && path[start + 1] == '.')) return true;
            start = end + 1;
        }
        return false;
    }
}
