using System.Collections;

namespace RxHttp;

/// <summary>
/// What a client session needs from a cookie store (aiohttp's AbstractCookieJar): take cookies from responses
/// and preloaded pairs, and say which cookies go with a request. Enumerating yields the live (unexpired) cookies.
/// </summary>
public abstract class AbstractCookieJar : IEnumerable<Cookie>
{
    /// <summary>Stores the cookies of a response: each element is one Set-Cookie header value.</summary>
    /// <param name="setCookieHeaderValues">The Set-Cookie header values, one cookie each; malformed ones are ignored.</param>
    /// <param name="responseUrl">The absolute URL of the response that carried them.</param>
    public abstract void UpdateCookies(IEnumerable<string> setCookieHeaderValues, Uri responseUrl);

    // A jar made without a clock takes the session's, as a connector does (CookieJar overrides it).
    internal virtual void AdoptScheduler(System.Reactive.Concurrency.IScheduler scheduler) { }

    /// <summary>
    /// Stores preloaded name/value cookies (a session's <c>cookies</c> argument). With a URL they are host-only
    /// cookies of its host; with null they are shared cookies, sent to every URL.
    /// </summary>
    /// <param name="cookies">The name/value pairs.</param>
    /// <param name="responseUrl">The URL the cookies belong to, or null for shared cookies.</param>
    public abstract void UpdateCookies(IEnumerable<KeyValuePair<string, string>> cookies, Uri? responseUrl = null);

    /// <summary>
    /// The cookies to send with a request to <paramref name="requestUrl"/> as name/value pairs in RFC 6265 §5.4
    /// order: longer paths first, then earlier creation.
    /// </summary>
    /// <param name="requestUrl">The absolute URL of the request.</param>
    public abstract IReadOnlyList<KeyValuePair<string, string>> FilterCookies(Uri requestUrl);

    /// <summary>Removes every cookie, or only those for which <paramref name="predicate"/> is true.</summary>
    /// <param name="predicate">Which cookies to remove; null removes all.</param>
    public abstract void Clear(Func<Cookie, bool>? predicate = null);

    /// <summary>Removes the cookies of <paramref name="domain"/> and of its subdomains.</summary>
    /// <param name="domain">A domain such as <c>example.com</c>; a leading dot is ignored.</param>
    public abstract void ClearDomain(string domain);

    /// <summary>How many unexpired cookies the jar holds.</summary>
    public abstract int Count { get; }

    /// <summary>
    /// Whether preloaded values that are not plain tokens are sent double-quoted (aiohttp's quote_cookie).
    /// A session uses it to give per-request cookies the same treatment as the jar's.
    /// </summary>
    public virtual bool QuoteCookie => true;

    /// <summary>Enumerates a snapshot of the unexpired cookies.</summary>
    public abstract IEnumerator<Cookie> GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
