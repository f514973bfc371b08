using System.Collections;
using System.Globalization;
using System.Text;

namespace RxHttp;

/// <summary>
/// Query parameters for a request, in any of the forms aiohttp's <c>params=</c> takes: a dictionary, a
/// list of pairs (order and repeated keys kept), a dictionary of lists (each value becomes a repeated key)
/// or a ready-made query string sent as written.
/// </summary>
/// <remarks>
/// <para>Keys and values are encoded like yarl's query parts: a space becomes "+", and "+", "&amp;", "=", ";"
/// and "#" are percent-encoded so they cannot be mistaken for separators; "/", "?", ":" and "@" stay literal.</para>
/// <para>Values are formatted with the invariant culture so a URL does not depend on the machine's locale.
/// yarl refuses bool and None; RxHttp accepts them because C# callers routinely have them: a bool is sent as
/// "true"/"false" (lower case, as JSON and most web frameworks read it) and null as an empty value ("key=").
/// DateTime and DateTimeOffset are written in ISO 8601 round-trip form ("O"), the one format servers agree on.
/// NaN and infinities are refused, as yarl does, because no server parses them the same way.
/// A value that is a sequence (other than a string) is expanded into one pair per item.</para>
/// <para>The collection is a builder: a <see cref="Url"/> copies the encoded text when it is created from it,
/// so later <c>Add</c> calls do not change URLs already made.</para>
/// </remarks>
public sealed class QueryParams : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _pairs = new();
    private readonly string? _raw;

    /// <summary>Creates an empty set, to fill with a collection initializer or <see cref="Add(string, object?)"/>.</summary>
    public QueryParams() { }

    /// <summary>A query string used as written (only characters illegal in a query are percent-encoded; "+" stays "+").</summary>
    /// <exception cref="ArgumentException">The string holds a lone UTF-16 surrogate.</exception>
    public QueryParams(string rawQuery)
    {
        ArgumentNullException.ThrowIfNull(rawQuery);
        RequireEncodable(rawQuery, "the query string", nameof(rawQuery));
        _raw = rawQuery.StartsWith('?') ? rawQuery[1..] : rawQuery;
    }

    /// <summary>Pairs of key and text value, in order.</summary>
    public QueryParams(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        foreach (var p in pairs) Add(p.Key, p.Value);
    }

    /// <summary>Pairs of key and value of any supported type, in order.</summary>
    public QueryParams(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        foreach (var p in pairs) Add(p.Key, p.Value);
    }

    /// <summary>Tuples of key and value, in order: the C# spelling of aiohttp's list of pairs.</summary>
    public QueryParams(IEnumerable<(string Key, object? Value)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        foreach (var (k, v) in pairs) Add(k, v);
    }

    /// <summary>Any dictionary or pair sequence, whatever its value type (for example string[] for repeated keys).</summary>
    public static QueryParams From<TValue>(IEnumerable<KeyValuePair<string, TValue>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var q = new QueryParams();
        foreach (var p in pairs) q.Add(p.Key, p.Value);
        return q;
    }

    /// <summary>Tuples of key and value, in order.</summary>
    public static QueryParams From(IEnumerable<(string Key, object? Value)> pairs) => new(pairs);

    /// <summary>A raw query string, see <see cref="QueryParams(string)"/>.</summary>
    public static QueryParams From(string rawQuery) => new(rawQuery);

    /// <summary>A raw query string sent as written.</summary>
    public static implicit operator QueryParams(string rawQuery) => new(rawQuery);

    /// <summary>A dictionary of text values.</summary>
    public static implicit operator QueryParams(Dictionary<string, string> pairs) => new(pairs);

    /// <summary>A dictionary of values of any supported type.</summary>
    public static implicit operator QueryParams(Dictionary<string, object?> pairs) => new(pairs);

    /// <summary>A dictionary of lists: every item becomes a pair, so keys repeat.</summary>
    public static implicit operator QueryParams(Dictionary<string, string[]> pairs) => From(pairs);

    /// <summary>A dictionary of lists: every item becomes a pair, so keys repeat.</summary>
    public static implicit operator QueryParams(Dictionary<string, List<string>> pairs) => From(pairs);

    /// <summary>An array of tuples, order and repeats kept.</summary>
    public static implicit operator QueryParams((string Key, object? Value)[] pairs) => new(pairs);

    /// <summary>An array of text tuples, order and repeats kept.</summary>
    public static implicit operator QueryParams((string Key, string Value)[] pairs)
    {
        var q = new QueryParams();
        foreach (var (k, v) in pairs) q.Add(k, v);
        return q;
    }

    /// <summary>A list of tuples, order and repeats kept.</summary>
    public static implicit operator QueryParams(List<(string Key, object? Value)> pairs) => new(pairs);

    /// <summary>A list of pairs, order and repeats kept.</summary>
    public static implicit operator QueryParams(List<KeyValuePair<string, string>> pairs) => new(pairs);

    /// <summary>A list of pairs, order and repeats kept.</summary>
    public static implicit operator QueryParams(List<KeyValuePair<string, object?>> pairs) => new(pairs);

    /// <summary>True when the parameters were given as a raw query string.</summary>
    public bool IsRaw => _raw is not null;

    /// <summary>How many pairs there are (for a raw string, how many '&amp;'-separated parts).</summary>
    public int Count => _raw is null ? _pairs.Count : Split(_raw).Count;

    /// <summary>Adds a pair; a sequence value adds one pair per item.</summary>
    /// <exception cref="InvalidOperationException">The set was made from a raw query string.</exception>
    /// <exception cref="ArgumentException">The value is NaN or infinite, or the key or value holds a lone UTF-16 surrogate.</exception>
    public void Add(string key, object? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_raw is not null) throw new InvalidOperationException("cannot add pairs to a raw query string");
        RequireEncodable(key, "a query parameter name", nameof(key));
        if (value is IEnumerable items and not string)
        {
            foreach (var item in items) AddPair(key, item);
            return;
        }
        AddPair(key, value);
    }

    private void AddPair(string key, object? value)
    {
        var text = Format(key, value);
        RequireEncodable(text, $"query parameter '{key}'", nameof(value));
        _pairs.Add(new(key, text));
    }

    // Refused when added rather than when a request encodes it, so the error points at the code that built the pair.
    private static void RequireEncodable(string text, string what, string paramName)
    {
        var i = StrictEncodings.IndexOfLoneSurrogate(text);
        if (i >= 0)
            throw new ArgumentException($"{what} holds a lone UTF-16 surrogate (\\u{(int)text[i]:X4} at index {i}): UTF-8 has no form for it", paramName);
    }

    /// <summary>Adds a pair; lets collection expressions of pairs build a set.</summary>
    public void Add(KeyValuePair<string, string> pair) => Add(pair.Key, pair.Value);

    /// <summary>The query text without "?", as it will be appended to a URL.</summary>
    public string Encode()
    {
        if (_raw is not null) return Quoter.QueryRequoter.Quote(_raw);
        if (_pairs.Count == 0) return "";
        var sb = new StringBuilder();
        foreach (var (k, v) in _pairs)
        {
            if (sb.Length != 0) sb.Append('&');
            sb.Append(Quoter.QueryPartQuoter.Quote(k)).Append('=').Append(Quoter.QueryPartQuoter.Quote(v));
        }
        return sb.ToString();
    }

    /// <summary>The encoded query text, see <see cref="Encode"/>.</summary>
    public override string ToString() => Encode();

    /// <summary>The pairs with their values as text; a raw string is split and decoded.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        => (_raw is null ? _pairs : Split(_raw)).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static List<KeyValuePair<string, string>> Split(string raw)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var part in raw.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            var k = eq < 0 ? part : part[..eq];
            var v = eq < 0 ? "" : part[(eq + 1)..];
            list.Add(new(Quoter.Unquote(k, plusIsSpace: true), Quoter.Unquote(v, plusIsSpace: true)));
        }
        return list;
    }

    internal static string Format(string key, object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        double d when !double.IsFinite(d) => throw new ArgumentException($"query parameter '{key}': {d} is not supported", nameof(value)),
        float f when !float.IsFinite(f) => throw new ArgumentException($"query parameter '{key}': {f} is not supported", nameof(value)),
        DateTime dt => dt.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset dto => dto.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
