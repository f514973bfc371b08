using System.Reactive.Linq;

namespace RxHttp;

/// <summary>The cookie jar as a per-hop operator.</summary>
public static class CookiesOperator
{
    /// <summary>Where the session puts the per-request cookies; removed on a cross-origin redirect.</summary>
    public const string RequestCookiesKey = "rxhttp.cookies";

    /// <summary>
    /// For each hop: sends the jar's cookies for the hop's URL plus the per-request cookies (which override
    /// same-named jar cookies and are never stored), appended to any explicit Cookie header; then stores the
    /// response's Set-Cookie headers in the jar against the hop's URL and fills <see cref="ClientResponse.Cookies"/>.
    /// </summary>
    public static RequestHandler WithCookies(this RequestHandler hop, AbstractCookieJar jar)
    {
        ArgumentNullException.ThrowIfNull(hop);
        ArgumentNullException.ThrowIfNull(jar);
        return request => Observable.Defer(() =>
        {
            // An empty jar (the common case for API clients) costs no System.Uri and no list per hop.
            var pairs = jar.Count == 0
                ? new List<KeyValuePair<string, string>>()
                : new List<KeyValuePair<string, string>>(jar.FilterCookies(request.Url.ToUri()));
            if (request.Properties.TryGetValue(RequestCookiesKey, out var p) && p is IEnumerable<KeyValuePair<string, string>> own)
            {
                foreach (var (name, value) in own)
                {
                    pairs.RemoveAll(kv => kv.Key == name);
                    pairs.Add(new(name, jar.QuoteCookie ? QuoteIfNeeded(value) : value));
                }
            }
            var sent = request;
            if (pairs.Count > 0)
            {
                var headers = request.Headers.Clone();
                var value = string.Join("; ", pairs.Select(kv => kv.Key + "=" + kv.Value));
                var existing = headers.Get("Cookie");
                headers.Set("Cookie", string.IsNullOrEmpty(existing) ? value : existing + "; " + value);
                sent = request.With(headers: headers);
            }
            return hop(sent).Do(response =>
            {
                var setCookies = response.Headers.GetAll("Set-Cookie");
                if (setCookies.Count == 0) return;
                jar.UpdateCookies(setCookies, response.Url.ToUri());
                response.Cookies = ParseOwn(setCookies);
            });
        });
    }

    private static Dictionary<string, string> ParseOwn(IReadOnlyList<string> setCookies)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in setCookies)
            if (SetCookieParser.Parse(header) is { } c) result[c.Name] = c.Value;
        return result;
    }

    // Python's SimpleCookie quotes values that are not plain tokens; the jar does the same for preloaded values.
    private static string QuoteIfNeeded(string value) =>
        value.Length == 0 || value.All(c => c > 0x20 && c < 0x7f && c is not ('"' or ',' or ';' or '\\'))
            ? value
            : "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
