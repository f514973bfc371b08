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

    /// <summary>Creates the body from <paramref name="pairs"/>, in order.</summary>
    public FormUrlEncodedPayload(IEnumerable<KeyValuePair<string, string>> pairs, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        Pairs = pairs.ToList();
        _bytes = Encoding.ASCII.GetBytes(Encode(Pairs, encoding ?? Encoding.UTF8));
        ContentType = "application/x-www-form-urlencoded";
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
    /// Reads a dictionary, a list of pairs (KeyValuePair or tuple) or a dictionary of lists into text pairs,
    /// or returns null when <paramref name="data"/> is none of those.
    /// </summary>
    internal static List<KeyValuePair<string, string>>? TryGetPairs(object data)
    {
        if (data is QueryParams qp) return qp.ToList();
        if (data is string || data is not IEnumerable items) return null;
        var element = ElementType(data.GetType());
        if (element is null) return null;
        var isKvp = element.IsGenericType && element.GetGenericTypeDefinition() == typeof(KeyValuePair<,>) && element.GetGenericArguments()[0] == typeof(string);
        var isTuple = typeof(ITuple).IsAssignableFrom(element) && element.IsGenericType && element.GetGenericArguments() is { Length: 2 } ta && ta[0] == typeof(string);
        if (!isKvp && !isTuple) return null;
        var list = new List<KeyValuePair<string, string>>();
        var keyProp = isKvp ? element.GetProperty("Key")! : null;
        var valueProp = isKvp ? element.GetProperty("Value")! : null;
        foreach (var item in items)
        {
            string key;
            object? value;
            if (isKvp)
            {
                key = (string)keyProp!.GetValue(item)!;
                value = valueProp!.GetValue(item);
            }
            else
            {
                var t = (ITuple)item!;
                key = (string)t[0]!;
                value = t[1];
            }
            ArgumentNullException.ThrowIfNull(key, "form field name");
            if (value is IEnumerable many and not string)
                foreach (var v in many) list.Add(new(key, QueryParams.Format(key, v)));
            else list.Add(new(key, QueryParams.Format(key, value)));
        }
        return list;
    }

    private static Type? ElementType(Type type)
    {
        foreach (var i in type.GetInterfaces().Prepend(type))
            if (i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)) return i.GetGenericArguments()[0];
        return null;
    }
}
