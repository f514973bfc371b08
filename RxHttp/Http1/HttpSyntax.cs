using System.Buffers;
using System.Text;

namespace RxHttp.Http1;

/// <summary>Byte classes and field-line validation shared by the head parser and the trailer parser.</summary>
internal static class HttpSyntax
{
    /// <summary>RFC 9110 §5.6.2 tchar.</summary>
    internal static readonly SearchValues<byte> TChar =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>
    /// Bytes not allowed in a field value or reason phrase: every CTL except HTAB, plus DEL.
    /// obs-text (0x80-0xFF) is deliberately allowed. CR and LF are in the set, so a bare CR is caught here too.
    /// </summary>
    internal static readonly SearchValues<byte> InvalidFieldValue = SearchValues.Create(BuildInvalidFieldValue());

    private static byte[] BuildInvalidFieldValue()
    {
        var bytes = new List<byte>(33);
        for (int b = 0; b < 0x20; b++)
        {
            if (b != '\t') bytes.Add((byte)b);
        }
        bytes.Add(0x7F);
        return bytes.ToArray();
    }

    /// <summary>
    /// Validates one header (or trailer) line without its terminator. Returns null when valid, otherwise the error
    /// message, so callers can raise it as a head error or a payload error. <paramref name="valueKnownClean"/> skips
    /// the control-byte scan when the caller has already proved the whole line free of them.
    /// </summary>
    internal static string? CheckFieldLine(ReadOnlySpan<byte> line, out int nameLength, out int valueStart, out int valueLength,
        bool valueKnownClean = false)
    {
        nameLength = valueStart = valueLength = 0;
        if (line.Length == 0) return "Empty header line";

        byte first = line[0];
        if (first == ' ' || first == '\t')
        {
            // A line starting with whitespace would continue the previous field (obs-fold); RFC 9112 §5.2 lets a
            // client replace it with SP, but rejecting it is safer against request/response smuggling.
            return "obs-fold is not allowed: header line starts with whitespace: " + Excerpt(line);
        }

        int colon = line.IndexOfAnyExcept(TChar);
        if (colon < 0) return "Header line has no colon: " + Excerpt(line);

        byte stop = line[colon];
        if (stop != ':')
        {
            if (stop == ' ' || stop == '\t')
            {
                // RFC 9112 §5.1 names the first case; the second is a name that is not a token at all.
                int next = line[colon..].IndexOfAnyExcept((byte)' ', (byte)'\t');
                return next >= 0 && line[colon + next] == ':'
                    ? "Whitespace between header name and colon is not allowed: " + Excerpt(line)
                    : "Whitespace in header name: " + Excerpt(line);
            }
            if (stop == '\r')
                return "Bare CR in header name: " + Excerpt(line);
            return $"Invalid character 0x{stop:X2} in header name: " + Excerpt(line);
        }
        if (colon == 0) return "Empty header name: " + Excerpt(line);

        nameLength = colon;
        int rawStart = colon + 1;
        // OWS is almost always zero or one byte, where a plain loop beats the setup of a vectorized search.
        int start = rawStart, end = line.Length;
        while (start < end && (line[start] == ' ' || line[start] == '\t')) start++;
        while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t')) end--;
        ReadOnlySpan<byte> value = line[start..end];

        int bad = valueKnownClean ? -1 : value.IndexOfAny(InvalidFieldValue);
        if (bad >= 0)
        {
            string name = Encoding.ASCII.GetString(line[..colon]);
            return value[bad] switch
            {
                (byte)'\r' => $"Bare CR in value of header '{name}'",
                0 => $"NUL in value of header '{name}'",
                var b => $"Invalid control character 0x{b:X2} in value of header '{name}'",
            };
        }

        valueStart = start;
        valueLength = value.Length;
        return null;
    }

    /// <summary>A short, printable rendering of peer bytes for error messages (control bytes escaped).</summary>
    internal static string Excerpt(ReadOnlySpan<byte> bytes, int max = 64)
    {
        var sb = new StringBuilder(Math.Min(bytes.Length, max) + 8);
        sb.Append('\'');
        int n = Math.Min(bytes.Length, max);
        for (int i = 0; i < n; i++)
        {
            byte b = bytes[i];
            switch (b)
            {
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                default:
                    if (b < 0x20 || b >= 0x7F) sb.Append("\\x").Append(b.ToString("X2"));
                    else sb.Append((char)b);
                    break;
            }
        }
        if (bytes.Length > max) sb.Append("...");
        sb.Append('\'');
        return sb.ToString();
    }
}
