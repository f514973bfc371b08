using System.Collections;
using System.Runtime.CompilerServices;
using System.Text;

namespace RxHttp;

/// <summary>
/// An application/x-www-form-urlencoded body (aiohttp's <c>data={"key": "value"}</c>): pairs in order,
/// repeated keys kept, a space sent as "+" and every byte other than <c>A-Z a-z 0-9 - . _ ~</c> percent-encoded
/// (Python's <c>urlencode</c>, which aiohttp uses). Values are formatted invariantly like query parameters.
/// </summary>
public sealed class FormUrlEncodedPayload : Payload
{
    private readonly byte[] _bytes;

    /// <summary>
    /// Creates the body from <paramref name="pairs"/>, in order, percent-encoding their <paramref name="encoding"/>
    /// bytes (UTF-8 by default); another encoding is named in the Content-Type's charset.
    /// </summary>
    public FormUrlEncodedPayload(IEnumerable<KeyValuePair<string, string>> pairs, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        Pairs = pairs.ToList();
        encoding ??= Encoding.UTF8;
        _bytes = Encoding.ASCII.GetBytes(Encode(Pairs, encoding));
        // The bytes say nothing of their charset, so another one is named, as aiohttp's FormData(charset=…) does:
        // servers that read the parameter (aiohttp's request.post()) would take them for UTF-8.
        ContentType = encoding.CodePage == Encoding.UTF8.CodePage
            ? "application/x-www-form-urlencoded"
            : "application/x-www-form-urlencoded; charset=" + encoding.WebName;
    }

    /// <summary>The fields as given, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Pairs { get; }

    /// <inheritdoc />
    public override long? Length => _bytes.Length;

    /// <inheritdoc />
    public override bool IsReplayable => true;

    /// <inheritdoc />
    public override ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken) =>
        _bytes.Length == 0 ? ValueTask.CompletedTask : writer.WriteAsync(_bytes, cancellationToken);

    /// <summary>The encoded text, e.g. <c>a=1&amp;b=x+y</c>.</summary>
    public override string ToString() => Encoding.ASCII.GetString(_bytes);

    internal static string Encode(IEnumerable<KeyValuePair<string, string>> pairs, Encoding encoding)
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in pairs)
        {
            if (sb.Length > 0) sb.Append('&');
            QuotePlus(sb, k, encoding);
            sb.Append('=');
            QuotePlus(sb, v, encoding);
        }
        return sb.ToString();
    }

    private static void QuotePlus(StringBuilder sb, string s, Encoding encoding)
    {
        foreach (var b in encoding.GetBytes(s))
        {
            if (b == (byte)' ') sb.Append('+');
            else if (b < 128 && (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')) sb.Append((char)b);
            else sb.Append('%').Append("0123456789ABCDEF"[b >> 4]).Append("0123456789ABCDEF"[b & 15]);
        }
    }

    /// <summary>
    /// The body for a dictionary, a list of pairs (KeyValuePair or tuple) or a dictionary of lists, as aiohttp's
    /// <c>FormData(data)</c> makes it: urlencoded, or multipart/form-data when a value is a file (a stream, a
    /// <see cref="FileInfo"/>, a payload or bytes), which text would only name. Null when <paramref name="data"/> is none of those.
    /// </summary>
    /// <exception cref="ArgumentException">A list of <c>KeyValuePair&lt;string, T&gt;</c> with a value type it cannot read.</exception>
    internal static Payload? TryCreate(object data)
    {
        if (TryGetPairs(data) is not { } pairs) return null;
        if (!pairs.Exists(p => IsFile(p.Value)))
            return new FormUrlEncodedPayload(pairs.Select(p => new KeyValuePair<string, string>(p.Key, QueryParams.Format(p.Key, p.Value))));
        var form = new FormData();
        foreach (var (k, v) in pairs) form.AddField(k, v);
        return form;
    }

    private static bool IsFile(object? value) =>
        value is Stream or FileInfo or Payload || FormData.IsBytes(value);

    /// <summary>
    /// Reads a dictionary, a list of pairs (KeyValuePair or tuple) or a dictionary of lists into pairs of a name and
    /// a value (a list's items each in a pair of its own), or returns null when <paramref name="data"/> is none of
    /// those. Pairs are recognised by type tests, not reflection, so forms work the same in trimmed and NativeAOT apps.
    /// </summary>
    /// <exception cref="ArgumentException">A list of <c>KeyValuePair&lt;string, T&gt;</c> with a value type it cannot read.</exception>
    internal static List<KeyValuePair<string, object?>>? TryGetPairs(object data)
    {
        if (data is QueryParams qp) return qp.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)).ToList();
        if (data is string || data is not IEnumerable items) return null;
        var list = new List<KeyValuePair<string, object?>>();
        if (data is IDictionary dictionary)
        {
            // Every Dictionary<string, T> is also a non-generic IDictionary, whatever T is.
            foreach (DictionaryEntry e in dictionary)
            {
                if (e.Key is not string key) return null;
                Add(list, key, e.Value);
            }
            return list;
        }
        var any = false;
        foreach (var item in items)
        {
            any = true;
            if (!TryPair(item, out var key, out var value)) return null;
            Add(list, key, value);
        }
        return any || IsPairType(ElementTypeOf(data.GetType())) ? list : null;
    }

    private static void Add(List<KeyValuePair<string, object?>> list, string? key, object? value)
    {
        ArgumentNullException.ThrowIfNull(key, "form field name");
        if (value is IEnumerable many and not string && !IsFile(value))
            foreach (var v in many) list.Add(new(key, v));
        else list.Add(new(key, value));
    }

    private static bool TryPair(object? item, out string? key, out object? value)
    {
        (key, value) = item switch
        {
            ITuple { Length: 2 } t when t[0] is null or string => ((string?)t[0], t[1]),
            KeyValuePair<string, string> p => (p.Key, p.Value),
            KeyValuePair<string, object?> p => (p.Key, p.Value),
            KeyValuePair<string, string[]> p => (p.Key, p.Value),
            KeyValuePair<string, IEnumerable<string>> p => (p.Key, p.Value),
            KeyValuePair<string, List<string>> p => (p.Key, p.Value),
            KeyValuePair<string, IReadOnlyList<string>> p => (p.Key, p.Value),
            KeyValuePair<string, int> p => (p.Key, p.Value),
            KeyValuePair<string, long> p => (p.Key, p.Value),
            KeyValuePair<string, double> p => (p.Key, p.Value),
            KeyValuePair<string, decimal> p => (p.Key, p.Value),
            KeyValuePair<string, bool> p => (p.Key, p.Value),
            DictionaryEntry { Key: string k } e => (k, e.Value),
            _ => ((string?)null, (object?)Unreadable(item)),
        };
        return value is not UnreadablePair;
    }

    private sealed class UnreadablePair;
    private static readonly UnreadablePair NotAPair = new();

    private static object Unreadable(object? item)
    {
        if (item is not null && item.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(KeyValuePair<,>)
            && t.GetGenericArguments() is [var k, var v] && k == typeof(string))
            throw new ArgumentException($"Form pairs with {v.Name} values cannot be read: use KeyValuePair<string, string> or <string, object?>, a dictionary, or (string, value) tuples.", "data");
        return NotAPair;
    }

    private static Type? ElementTypeOf(Type type) =>
        type.IsArray ? type.GetElementType() : type.IsGenericType && type.GetGenericArguments() is [var only] ? only : null;

    // An empty list is a form only when its element type says so.
    private static bool IsPairType(Type? element) =>
        element is { IsGenericType: true } && element.GetGenericArguments() is [var first, _] && first == typeof(string)
        && (element.GetGenericTypeDefinition() == typeof(KeyValuePair<,>) || typeof(ITuple).IsAssignableFrom(element));
}
