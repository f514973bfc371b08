using System.Collections;

namespace RxHttp;

/// <summary>One entry of a Link header (RFC 8288): its target, resolved against the response URL, and its parameters.</summary>
public sealed class WebLink
{
    internal WebLink(Url url, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        Url = url;
        Parameters = parameters;
    }

    /// <summary>The target, resolved against the URL of the response that carried it (aiohttp's <c>link["url"]</c>).</summary>
    public Url Url { get; }

    /// <summary>The parameters in order, names in lower case (<c>rel</c>, <c>title</c>, <c>type</c>, …).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; }

    /// <summary>The <c>rel</c> parameter as sent (it may hold several space-separated relation types), or null.</summary>
    public string? Rel => this["rel"];

    /// <summary>The first value of the parameter <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var (k, v) in Parameters)
                if (k.Equals(name, StringComparison.OrdinalIgnoreCase)) return v;
            return null;
        }
    }

    /// <summary>True when <c>rel</c> lists <paramref name="relationType"/> (compared case-insensitively, as RFC 8288 says).</summary>
    public bool HasRel(string relationType)
    {
        ArgumentNullException.ThrowIfNull(relationType);
        if (Rel is not { } rel) return false;
        foreach (var part in rel.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            if (part.Equals(relationType, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <inheritdoc />
    public override string ToString() => Rel is { } rel ? $"<{Url}>; rel=\"{rel}\"" : $"<{Url}>";
}

/// <summary>
/// The Link headers of a response (RFC 8288), aiohttp's <c>resp.links</c>: every entry in order, and by relation type
/// (<c>links["next"]</c>) for pagination.
/// </summary>
public sealed class WebLinks : IReadOnlyList<WebLink>
{
    private readonly WebLink[] _links;

    private WebLinks(WebLink[] links) => _links = links;

    internal static readonly WebLinks Empty = new([]);

    /// <inheritdoc />
    public int Count => _links.Length;

    /// <inheritdoc />
    public WebLink this[int index] => _links[index];

    /// <summary>The first link whose <c>rel</c> lists <paramref name="relationType"/>, or null.</summary>
    public WebLink? this[string relationType] => _links.FirstOrDefault(l => l.HasRel(relationType));

    /// <inheritdoc />
    public IEnumerator<WebLink> GetEnumerator() => ((IEnumerable<WebLink>)_links).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Parses Link header values, resolving each target against <paramref name="baseUrl"/>. Lenient as aiohttp is: an
    /// entry that is not <c>&lt;target&gt;</c> followed by parameters, or whose target is not a URL, is skipped.
    /// </summary>
    public static WebLinks Parse(IEnumerable<string> headerValues, Url baseUrl)
    {
        ArgumentNullException.ThrowIfNull(headerValues);
        ArgumentNullException.ThrowIfNull(baseUrl);
        var links = new List<WebLink>();
        foreach (var header in headerValues)
        {
            var i = 0;
            while (i < header.Length)
            {
                var c = header[i];
                if (c is ' ' or '\t' or ',') { i++; continue; }
                var close = c == '<' ? header.IndexOf('>', i + 1) : -1;
                if (close < 0)
                {
                    i = SkipEntry(header, i);
                    continue;
                }
                var target = header[(i + 1)..close];
                var parameters = new List<KeyValuePair<string, string>>();
                i = HeaderParameters.Parse(header, close + 1, parameters, stopAtComma: true);
                Url url;
                try
                {
                    url = baseUrl.Join(Url.Parse(target.Trim()));
                }
                catch (InvalidUrl)
                {
                    continue;
                }
                links.Add(new WebLink(url, parameters));
            }
        }
        return links.Count == 0 ? Empty : new WebLinks(links.ToArray());
    }

    // To the comma that ends a malformed entry, stepping over quoted strings.
    private static int SkipEntry(string s, int i)
    {
        var quoted = false;
        for (; i < s.Length; i++)
        {
            if (s[i] == '"') quoted = !quoted;
            else if (s[i] == '\\' && quoted) i++;
            else if (s[i] == ',' && !quoted) return i + 1;
        }
        return i;
    }
}
