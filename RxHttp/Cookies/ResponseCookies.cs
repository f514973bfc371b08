using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace RxHttp;

/// <summary>
/// One cookie a response set, with its attributes as the Set-Cookie header gave them: a <c>Morsel</c> of aiohttp's
/// <c>resp.cookies</c> (Python's <c>SimpleCookie</c>). What the jar stored may differ (it applies the request URL,
/// lower-cases the domain, drops expired cookies); this is what the server sent.
/// </summary>
public sealed class Morsel
{
    internal Morsel(ParsedSetCookie parsed)
    {
        Key = parsed.Name;
        Value = parsed.Value;
        Domain = parsed.RawDomain;
        Path = parsed.RawPath;
        Expires = parsed.Expires;
        MaxAge = parsed.MaxAge;
        Secure = parsed.Secure;
        HttpOnly = parsed.HttpOnly;
        SameSite = parsed.SameSite;
        Partitioned = parsed.Partitioned;
    }

    /// <summary>The cookie's name.</summary>
    public string Key { get; }
    /// <summary>The cookie's value, as sent (quotes kept).</summary>
    public string Value { get; }
    /// <summary>The Domain attribute as sent (a leading dot kept), or null.</summary>
    public string? Domain { get; }
    /// <summary>The Path attribute as sent, or null.</summary>
    public string? Path { get; }
    /// <summary>The Expires attribute, parsed (RFC 6265 section 5.1.1), or null when absent or not a date.</summary>
    public DateTimeOffset? Expires { get; }
    /// <summary>The Max-Age attribute in seconds, or null when absent or not a number.</summary>
    public long? MaxAge { get; }
    /// <summary>The Secure flag.</summary>
    public bool Secure { get; }
    /// <summary>The HttpOnly flag.</summary>
    public bool HttpOnly { get; }
    /// <summary>The SameSite attribute as sent ("Strict", "Lax", "None"), or null.</summary>
    public string? SameSite { get; }
    /// <summary>The Partitioned flag (CHIPS).</summary>
    public bool Partitioned { get; }

    /// <inheritdoc/>
    public override string ToString() => Key + "=" + Value;
}

/// <summary>
/// The cookies a response set (<see cref="ClientResponse.Cookies"/>): name to value, as before, and each with its
/// attributes in <see cref="Morsels"/> (aiohttp's <c>SimpleCookie</c>). A name set twice keeps the last.
/// </summary>
public sealed class ResponseCookies : IReadOnlyDictionary<string, string>
{
    private readonly Dictionary<string, Morsel> _morsels;

    internal ResponseCookies(Dictionary<string, Morsel> morsels) => _morsels = morsels;

    /// <summary>No cookies.</summary>
    public static ResponseCookies Empty { get; } = new(new Dictionary<string, Morsel>(StringComparer.Ordinal));

    /// <summary>The cookies with their attributes, by name.</summary>
    public IReadOnlyDictionary<string, Morsel> Morsels => _morsels;

    /// <summary>The value of the cookie <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">The response set no such cookie.</exception>
    public string this[string key] => _morsels[key].Value;

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _morsels.Keys;

    /// <inheritdoc/>
    public IEnumerable<string> Values => _morsels.Values.Select(m => m.Value);

    /// <inheritdoc/>
    public int Count => _morsels.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _morsels.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        var found = _morsels.TryGetValue(key, out var morsel);
        value = morsel?.Value;
        return found;
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() =>
        _morsels.Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value.Value)).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
