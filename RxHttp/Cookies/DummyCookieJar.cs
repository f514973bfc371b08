namespace RxHttp;

/// <summary>A jar that stores nothing and sends nothing, for sessions that must not keep cookies (aiohttp's DummyCookieJar).</summary>
public sealed class DummyCookieJar : AbstractCookieJar
{
    /// <inheritdoc />
    public override int Count => 0;

    /// <inheritdoc />
    public override void UpdateCookies(IEnumerable<string> setCookieHeaderValues, Uri responseUrl) { }

    /// <inheritdoc />
    public override void UpdateCookies(IEnumerable<KeyValuePair<string, string>> cookies, Uri? responseUrl = null) { }

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, string>> FilterCookies(Uri requestUrl) =>
        Array.Empty<KeyValuePair<string, string>>();

    /// <inheritdoc />
    public override void Clear(Func<Cookie, bool>? predicate = null) { }

    /// <inheritdoc />
    public override void ClearDomain(string domain) { }

    /// <inheritdoc />
    public override IEnumerator<Cookie> GetEnumerator() => Enumerable.Empty<Cookie>().GetEnumerator();
}
