using System.Collections.Frozen;

namespace RxHttp.Extensions.DependencyInjection;

/// <summary>
/// The spelling HttpClient gives the headers it knows ("Authorization", "Set-Cookie"), whatever case a request or a
/// server used: HttpClientFactory's redaction predicate sees that spelling, so predicates are written against it.
/// </summary>
internal static class HeaderNames
{
    private static readonly FrozenDictionary<string, string> Known = new[]
    {
        "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Patch", "Accept-Ranges",
        "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Access-Control-Max-Age", "Age", "Allow",
        "Alt-Svc", "Alt-Used", "Authorization", "Cache-Control", "Connection", "Content-Disposition", "Content-Encoding",
        "Content-Language", "Content-Length", "Content-Location", "Content-MD5", "Content-Range",
        "Content-Security-Policy", "Content-Type", "Cookie", "Cookie2", "Date", "ETag", "Expect", "Expires", "From",
        "Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Keep-Alive",
        "Last-Modified", "Link", "Location", "Max-Forwards", "Origin", "Pragma", "Proxy-Authenticate",
        "Proxy-Authorization", "Proxy-Connection", "Range", "Referer", "Retry-After", "Sec-WebSocket-Accept",
        "Sec-WebSocket-Extensions", "Sec-WebSocket-Key", "Sec-WebSocket-Protocol", "Sec-WebSocket-Version", "Server",
        "Set-Cookie", "Set-Cookie2", "Strict-Transport-Security", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "User-Agent", "Vary", "Via", "Warning", "WWW-Authenticate",
    }.ToFrozenDictionary(n => n, StringComparer.OrdinalIgnoreCase);

    /// <summary>HttpClient's spelling of <paramref name="name"/> when it knows the header, else <paramref name="name"/>.</summary>
    public static string Canonical(string name) => Known.TryGetValue(name, out var canonical) ? canonical : name;
}
