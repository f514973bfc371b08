namespace RxHttp;

/// <summary>
/// One stored cookie: a Set-Cookie header (or a preloaded name/value pair) after RFC 6265 §5.3 processing.
/// Immutable; the jar replaces a cookie rather than changing it.
/// </summary>
public sealed class Cookie
{
    /// <summary>Creates a cookie with <paramref name="name"/> and <paramref name="value"/>; set the rest with initialisers.</summary>
    /// <exception cref="ArgumentNullException">A null name or value.</exception>
    public Cookie(string name, string value)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Value = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The cookie name (case-sensitive).</summary>
    public string Name { get; }

    /// <summary>
    /// The value exactly as it is sent back in the Cookie header. Double quotes around a received value are
    /// kept, as aiohttp sends a morsel's coded value; a preloaded value is quoted here when the jar quotes.
    /// </summary>
    public string Value { get; }

    /// <summary>
    /// The lower-case host or domain the cookie belongs to (punycode for international names, no leading dot);
    /// empty for a shared cookie, which is sent to every URL.
    /// </summary>
    public string Domain { get; init; } = "";

    /// <summary>The path the cookie is scoped to, after the RFC 6265 §5.1.4 default-path rule.</summary>
    public string Path { get; init; } = "/";

    /// <summary>
    /// When the cookie stops being sent: from Max-Age when present (it wins), else from Expires;
    /// null for a session cookie, which lives as long as the jar.
    /// </summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>The Max-Age attribute in seconds as received, or null when it was absent or invalid.</summary>
    public long? MaxAge { get; init; }

    /// <summary>True when the cookie is sent only over https/wss or to an origin the jar treats as secure.</summary>
    public bool Secure { get; init; }

    /// <summary>The HttpOnly flag. An HTTP client sends such cookies like any other; it is kept for callers that inspect the jar.</summary>
    public bool HttpOnly { get; init; }

    /// <summary>The SameSite attribute as received ("Strict", "Lax", "None", ...), or null. Kept, not enforced.</summary>
    public string? SameSite { get; init; }

    /// <summary>True when the response carried no Domain attribute, so the cookie goes only to the exact host that set it.</summary>
    public bool HostOnly { get; init; }

    /// <summary>When the jar first stored a cookie with this domain, path and name (by the jar's scheduler clock).</summary>
    public DateTimeOffset CreationTime { get; init; }

    /// <summary>True when the cookie has an expiry time, false for a session cookie.</summary>
    public bool Persistent => Expires is not null;

    /// <summary>True when the cookie came from <c>UpdateCookies(pairs, null)</c> and is sent to every URL.</summary>
    public bool Shared => Domain.Length == 0;

    /// <summary>The <c>name=value</c> form used in a Cookie header.</summary>
    public override string ToString() => Name + "=" + Value;
}
