namespace RxHttp;

/// <summary>A Set-Cookie header value split per RFC 6265 §5.2, before the jar applies the URL (§5.3).</summary>
internal sealed record ParsedSetCookie(string Name, string Value)
{
    public DateTimeOffset? Expires { get; set; }
    public long? MaxAge { get; set; }
    /// <summary>Lower-case, leading dot removed; null when absent or empty.</summary>
    public string? Domain { get; set; }
    /// <summary>Null when absent or not starting with '/', so the default path applies.</summary>
    public string? Path { get; set; }
    public bool Secure { get; set; }
    public bool HttpOnly { get; set; }
    public string? SameSite { get; set; }
    public bool Partitioned { get; set; }
    /// <summary>Domain and Path as sent, for <see cref="Morsel"/>.</summary>
    public string? RawDomain { get; set; }
    public string? RawPath { get; set; }
}

/// <summary>
/// RFC 6265 §5.2 parsing. It follows the RFC's lenient algorithm rather than Python's SimpleCookie grammar,
/// but it never throws: anything it cannot make a cookie of yields null and is dropped.
/// </summary>
internal static class SetCookieParser
{
    public static ParsedSetCookie? Parse(string? header)
    {
        if (string.IsNullOrEmpty(header)) return null;
        int semi = header.IndexOf(';');
        var pair = semi < 0 ? header : header[..semi];
        int eq = pair.IndexOf('=');
        // RFC 6265 ignores a pair without '='; 6265bis would make it a nameless cookie, which no server relies on.
        if (eq < 0) return null;
        var name = Trim(pair[..eq]);
        var value = Trim(pair[(eq + 1)..]);
        if (!IsAcceptableReceivedName(name) || !IsValidValue(value)) return null;

        var cookie = new ParsedSetCookie(name, value);
        if (semi < 0) return cookie;

        // Later attributes override earlier ones (§5.3: "the last attribute ... with an attribute-name of X").
        foreach (var raw in header[(semi + 1)..].Split(';'))
        {
            int aeq = raw.IndexOf('=');
            var attrName = Trim(aeq < 0 ? raw : raw[..aeq]);
            var attrValue = aeq < 0 ? "" : Trim(raw[(aeq + 1)..]);
            switch (attrName.ToLowerInvariant())
            {
                case "expires":
                    if (CookieDate.Parse(attrValue) is { } when) cookie.Expires = when;
                    break;
                case "max-age":
                    if (TryParseMaxAge(attrValue, out var seconds)) cookie.MaxAge = seconds;
                    break;
                case "domain":
                    cookie.RawDomain = attrValue;
                    // §5.2.3: an empty Domain is ignored; the leading dot is a historical spelling of the same domain.
                    if (attrValue.Length > 0)
                    {
                        var d = attrValue.StartsWith('.') ? attrValue[1..] : attrValue;
                        cookie.Domain = d.Length == 0 ? null : d.ToLowerInvariant();
                    }
                    break;
                case "path":
                    cookie.RawPath = attrValue;
                    cookie.Path = attrValue.StartsWith('/') ? attrValue : null;
                    break;
                case "secure":
                    cookie.Secure = true;
                    break;
                case "httponly":
                    cookie.HttpOnly = true;
                    break;
                case "samesite":
                    cookie.SameSite = attrValue;
                    break;
                case "partitioned":
                    cookie.Partitioned = true;
                    break;
            }
        }
        return cookie;
    }

    /// <summary>§5.2.2: a leading digit or '-', then digits only; anything else makes the attribute ignored.</summary>
    internal static bool TryParseMaxAge(string text, out long seconds)
    {
        seconds = 0;
        if (text.Length == 0) return false;
        bool negative = text[0] == '-';
        var digits = negative ? text.AsSpan(1) : text.AsSpan();
        if (digits.Length == 0) return false;
        foreach (var c in digits) if (!char.IsAsciiDigit(c)) return false;
        // Values beyond long are "forever" or "already gone"; saturate instead of rejecting them.
        if (!long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var magnitude))
            magnitude = long.MaxValue;
        seconds = negative ? -magnitude : magnitude;
        return true;
    }

    private static string Trim(string s) => s.Trim(' ', '\t');

    /// <summary>
    /// §5.2: the name is whatever precedes the first '=' after trimming, so a server's <c>"a b"</c> or <c>a"b</c>
    /// is stored and sent back exactly as received. Only an empty name and control characters other than HTAB
    /// (RFC 6265bis §5.6) are refused: they could end or split the Cookie header.
    /// </summary>
    internal static bool IsAcceptableReceivedName(string name)
    {
        if (name.Length == 0) return false;
        foreach (var c in name)
        {
            if ((c < ' ' && c != '\t') || c == '\x7F') return false;
        }
        return true;
    }

    /// <summary>
    /// A token-ish name for cookies the caller supplies: no controls, whitespace or separators that would break the
    /// Cookie header (what Python's SimpleCookie accepts as a key).
    /// </summary>
    internal static bool IsValidName(string name)
    {
        if (name.Length == 0) return false;
        foreach (var c in name)
        {
            if (c <= ' ' || c == '\x7F' || c == ';' || c == ',' || c == '=' || c == '"') return false;
        }
        return true;
    }

    /// <summary>Controls (other than tab) would smuggle header syntax into the Cookie header, so such values are dropped.</summary>
    internal static bool IsValidValue(string value)
    {
        foreach (var c in value)
        {
            if ((c < ' ' && c != '\t') || c == '\x7F' || c == ';') return false;
        }
        return true;
    }
}
