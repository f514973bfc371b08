using System.Text;

namespace RxHttp;

/// <summary>
/// A parsed Content-Disposition header (RFC 6266), aiohttp's <c>ContentDisposition</c>: what
/// <see cref="ClientResponse.ContentDisposition"/> gives for a download, and what multipart parts are written with.
/// </summary>
public sealed class ContentDisposition
{
    private readonly List<KeyValuePair<string, string>> _raw;

    private ContentDisposition(string type, IReadOnlyDictionary<string, string> parameters, List<KeyValuePair<string, string>> raw)
    {
        Type = type;
        Parameters = parameters;
        _raw = raw;
        FileName = Value("filename");
    }

    /// <summary>The disposition type in lower case: <c>attachment</c>, <c>inline</c>, <c>form-data</c>, ….</summary>
    public string Type { get; }

    /// <summary>
    /// The parameters by lower-case name, as sent: an extended one (<c>filename*</c>, RFC 8187) keeps its star and has
    /// its value decoded; a repeated name keeps its first value.
    /// </summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>
    /// The file name: <c>filename*</c> when given and valid (RFC 8187, UTF-8 or ISO-8859-1), else the continuations
    /// <c>filename*0</c>, <c>filename*1</c>, … joined (RFC 2231), else <c>filename</c>; null when there is none. It is the
    /// server's text: take <see cref="Path.GetFileName(string)"/> of it, at least, before using it as a path.
    /// </summary>
    public string? FileName { get; }

    /// <summary>Parses a header value; null when it is empty or has no valid disposition type.</summary>
    public static ContentDisposition? Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header)) return null;
        var i = 0;
        while (i < header.Length && header[i] is ' ' or '\t') i++;
        var start = i;
        while (i < header.Length && HeaderValidation.IsTokenChar(header[i])) i++;
        if (i == start) return null;
        var type = header[start..i].ToLowerInvariant();
        while (i < header.Length && header[i] is ' ' or '\t') i++;
        if (i < header.Length && header[i] != ';') return null; // "attachment junk": aiohttp gives up on it too
        var list = new List<KeyValuePair<string, string>>();
        HeaderParameters.Parse(header, i, list, stopAtComma: false);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in list)
        {
            var decoded = name.EndsWith('*') ? HeaderParameters.DecodeExtended(value) : value;
            if (decoded is not null) parameters.TryAdd(name, decoded);
        }
        return new ContentDisposition(type, parameters, list);
    }

    /// <summary>
    /// A parameter as aiohttp's <c>content_disposition_filename</c> reads it, for <c>filename</c> and <c>name</c> alike:
    /// <c>name*</c> (RFC 8187), else the RFC 2231 continuations, else the plain one. Writers that keep headers 7-bit
    /// (aiohttp's own, mail gateways) send a non-ASCII field name only as <c>name*</c>.
    /// </summary>
    internal string? Value(string name)
    {
        if (Parameters.TryGetValue(name + "*", out var extended)) return extended;
        return JoinContinuations(_raw, name + "*") ?? Parameters.GetValueOrDefault(name);
    }

    /// <summary>
    /// RFC 2231 §3-4: the segments <c>name*0</c>, <c>name*1*</c>, … are one value cut in pieces, so the encoded ones are
    /// percent-decoded to bytes first and the whole is decoded once, in the charset <c>name*0*</c> names. Decoded piece
    /// by piece, a character whose bytes a server split over two segments would come out as two replacement characters.
    /// </summary>
    private static string? JoinContinuations(List<KeyValuePair<string, string>> raw, string prefix)
    {
        var segments = new Dictionary<int, (bool Encoded, string Value)>();
        foreach (var (key, value) in raw)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var number = key.AsSpan(prefix.Length);
            var encoded = number.EndsWith("*");
            if (encoded) number = number[..^1];
            if (number.Length is 0 or > 4 || (number.Length > 1 && number[0] == '0')) continue;
            if (!int.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)) continue;
            segments.TryAdd(n, (encoded, value));
        }
        if (!segments.ContainsKey(0)) return null;
        var encoding = Encoding.UTF8;
        var bytes = new List<byte>();
        for (var n = 0; segments.TryGetValue(n, out var segment); n++)
        {
            var value = segment.Value;
            if (!segment.Encoded)
            {
                bytes.AddRange(encoding.GetBytes(value));
                continue;
            }
            if (n == 0 && HeaderParameters.SplitCharset(value) is { } split)
            {
                if (split.Charset is null) return null;
                encoding = split.Charset;
                value = split.Value;
            }
            if (!HeaderParameters.TryPercentDecode(value, bytes)) return null;
        }
        return HeaderParameters.Decode(bytes, encoding);
    }

    /// <inheritdoc />
    public override string ToString() => FileName is null ? Type : $"{Type}; filename=\"{FileName}\"";

    // ---- writing (multipart parts) ----

    internal static string Format(string type, string? name, string? filename, IEnumerable<KeyValuePair<string, string>>? parameters)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        if (!type.All(HeaderValidation.IsTokenChar)) throw new ArgumentException($"'{type}' is not a valid disposition type.", nameof(type));
        var sb = new StringBuilder(type);
        if (name is not null) Param(sb, "name", name, extended: false);
        if (filename is not null) Param(sb, "filename", filename, extended: true);
        if (parameters is not null)
            foreach (var (k, v) in parameters) Param(sb, k, v, extended: false);
        return sb.ToString();
    }

    private static void Param(StringBuilder sb, string key, string value, bool extended)
    {
        if (key.Length == 0 || !key.All(HeaderValidation.IsTokenChar)) throw new ArgumentException($"'{key}' is not a valid parameter name.", nameof(key));
        sb.Append("; ").Append(key).Append("=\"");
        foreach (var c in value)
        {
            // CR and LF cannot appear in a header, even quoted; the WHATWG form encoding spells them %0D and %0A.
            if (c == '\r') sb.Append("%0D");
            else if (c == '\n') sb.Append("%0A");
            else if (c == '\0') throw new ArgumentException($"The '{key}' parameter contains NUL.", nameof(value));
            else
            {
                if (c is '"' or '\\') sb.Append('\\');
                sb.Append(c);
            }
        }
        sb.Append('"');
        if (extended && HeaderParameters.NeedsExtended(value))
            sb.Append("; ").Append(key).Append("*=utf-8''").Append(HeaderParameters.EncodeExtended(value));
    }
}

/// <summary>
/// The <c>; name=value</c> parameters of a header value (Content-Disposition, Link): values are tokens or quoted
/// strings with their backslash escapes undone. Lenient as browsers and aiohttp are: a malformed parameter is skipped,
/// an unquoted value runs to the next separator.
/// </summary>
internal static class HeaderParameters
{
    /// <summary>
    /// Adds the parameters from <paramref name="i"/> on to <paramref name="output"/> (names in lower case) and returns
    /// where it stopped: the end, or with <paramref name="stopAtComma"/> a comma outside quotes (Link's list separator).
    /// </summary>
    public static int Parse(string s, int i, List<KeyValuePair<string, string>> output, bool stopAtComma)
    {
        while (i < s.Length)
        {
            var c = s[i];
            if (c is ' ' or '\t' or ';') { i++; continue; }
            if (c == ',' && stopAtComma) break;
            var start = i;
            while (i < s.Length && s[i] is not ('=' or ';' or ' ' or '\t') && !(stopAtComma && s[i] == ',')) i++;
            var name = s[start..i].ToLowerInvariant();
            while (i < s.Length && s[i] is ' ' or '\t') i++;
            var value = "";
            if (i < s.Length && s[i] == '=')
            {
                i++;
                while (i < s.Length && s[i] is ' ' or '\t') i++;
                if (i < s.Length && s[i] == '"')
                {
                    var sb = new StringBuilder();
                    for (i++; i < s.Length && s[i] != '"'; i++)
                    {
                        if (s[i] == '\\' && i + 1 < s.Length) i++;
                        sb.Append(s[i]);
                    }
                    i++; // the closing quote (or past the end when it is missing)
                    value = sb.ToString();
                }
                else
                {
                    start = i;
                    while (i < s.Length && s[i] != ';' && !(stopAtComma && s[i] == ',')) i++;
                    value = s[start..i].TrimEnd(' ', '\t');
                }
            }
            if (name.Length > 0 && name.All(HeaderValidation.IsTokenChar)) output.Add(new(name, value));
            // Whatever follows a value up to the next separator is junk.
            while (i < s.Length && s[i] != ';' && !(stopAtComma && s[i] == ',')) i++;
        }
        return Math.Min(i, s.Length);
    }

    /// <summary>Whether <paramref name="value"/> has a character a quoted-string cannot carry as it is (not printable ASCII).</summary>
    public static bool NeedsExtended(string value) => !value.All(c => c is >= ' ' and < (char)127);

    /// <summary>
    /// <paramref name="value"/> as the percent-encoded part of an RFC 8187 ext-value in UTF-8 (the caller writes the
    /// <c>UTF-8''</c> before it): attr-chars as they are, every other UTF-8 byte as <c>%XX</c>.
    /// </summary>
    public static string EncodeExtended(string value)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b < 128 && (char.IsAsciiLetterOrDigit((char)b) || "!#$&+-.^_`|~".Contains((char)b))) sb.Append((char)b);
            else sb.Append('%').Append("0123456789ABCDEF"[b >> 4]).Append("0123456789ABCDEF"[b & 15]);
        }
        return sb.ToString();
    }

    /// <summary>
    /// An RFC 8187 ext-value, <c>charset'language'percent-encoded</c>, decoded; null when it is malformed, its bytes
    /// are not valid UTF-8 when that is its charset, or its charset is neither UTF-8 nor ISO-8859-1 (the two the RFC
    /// asks for). A continuation part without the charset prefix (RFC 2231 <c>name*1*</c>) is percent-decoded as UTF-8.
    /// </summary>
    public static string? DecodeExtended(string value)
    {
        var encoding = Encoding.UTF8;
        if (SplitCharset(value) is { } split)
        {
            if (split.Charset is null) return null;
            encoding = split.Charset;
            value = split.Value;
        }
        var bytes = new List<byte>(value.Length);
        return TryPercentDecode(value, bytes) ? Decode(bytes, encoding) : null;
    }

    /// <summary>
    /// The text of percent-decoded bytes; null when they are not valid in <paramref name="encoding"/>. Replacement
    /// characters would make a file name of U+FFFD where the plain <c>filename</c> beside it was usable: aiohttp
    /// decodes strictly and skips such a parameter, as Firefox does.
    /// </summary>
    public static string? Decode(List<byte> bytes, Encoding encoding)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        return encoding is UTF8Encoding && !System.Text.Unicode.Utf8.IsValid(span) ? null : encoding.GetString(span);
    }

    /// <summary>
    /// The <c>charset'language'</c> prefix of an ext-value and what follows it; null when there is no prefix, a null
    /// encoding when the charset is neither UTF-8 nor ISO-8859-1.
    /// </summary>
    public static (Encoding? Charset, string Value)? SplitCharset(string value)
    {
        var first = value.IndexOf('\'');
        var second = first < 0 ? -1 : value.IndexOf('\'', first + 1);
        if (second < 0) return null;
        var charset = value[..first];
        Encoding? encoding = charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) ? Encoding.UTF8
            : charset.Equals("iso-8859-1", StringComparison.OrdinalIgnoreCase) ? Encoding.Latin1 : null;
        return (encoding, value[(second + 1)..]);
    }

    /// <summary>Appends the bytes of <paramref name="encoded"/>'s ASCII and <c>%XX</c> escapes; false when it has anything else.</summary>
    public static bool TryPercentDecode(string encoded, List<byte> bytes)
    {
        for (var i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%')
            {
                if (i + 2 >= encoded.Length || !byte.TryParse(encoded.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var b)) return false;
                bytes.Add(b);
                i += 2;
            }
            else if (encoded[i] < 128) bytes.Add((byte)encoded[i]);
            else return false;
        }
        return true;
    }
}
