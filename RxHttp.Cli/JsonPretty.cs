using System.Text;
using System.Text.Json;

namespace RxHttp.Cli;

/// <summary>
/// Re-indents JSON (four spaces, as httpie) token by token with <see cref="Utf8JsonReader"/>: no reflection, numbers
/// kept exactly as the server wrote them, strings shown as text (httpie's <c>ensure_ascii=False</c>), optional ANSI
/// colours.
/// </summary>
internal static class JsonPretty
{
    private const string Key = "\u001b[94m", Str = "\u001b[33m", Num = "\u001b[36m", Lit = "\u001b[35m", Reset = "\u001b[0m";

    /// <summary>The formatted text, or null when <paramref name="json"/> is not one complete JSON value.</summary>
    public static string? Format(ReadOnlySpan<byte> json, bool colors)
    {
        var sb = new StringBuilder(json.Length * 2);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var depth = 0;
        var first = true;      // first element of the current container
        var afterName = false; // a value follows its property name on the same line
        try
        {
            while (reader.Read())
            {
                var t = reader.TokenType;
                if (t is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    depth--;
                    if (!first) NewLine(sb, depth);
                    sb.Append(t == JsonTokenType.EndObject ? '}' : ']');
                    first = false;
                    continue;
                }
                if (!afterName)
                {
                    if (depth > 0)
                    {
                        if (!first) sb.Append(',');
                        NewLine(sb, depth);
                    }
                }
                afterName = false;
                first = false;
                switch (t)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        sb.Append(t == JsonTokenType.StartObject ? '{' : '[');
                        depth++;
                        first = true;
                        break;
                    case JsonTokenType.PropertyName:
                        Paint(sb, colors, Key, '"' + Text(ref reader) + '"');
                        sb.Append(": ");
                        afterName = true;
                        break;
                    case JsonTokenType.String:
                        Paint(sb, colors, Str, '"' + Text(ref reader) + '"');
                        break;
                    case JsonTokenType.Number:
                        Paint(sb, colors, Num, Raw(ref reader));
                        break;
                    default:
                        Paint(sb, colors, Lit, Raw(ref reader));
                        break;
                }
            }
            return depth == 0 && reader.BytesConsumed > 0 ? sb.ToString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Raw(ref Utf8JsonReader reader) =>
        Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan);

    /// <summary>
    /// A string's text between its quotes. Many servers escape every non-ASCII character and quote (Python's json,
    /// System.Text.Json: <c>caf\u00e9</c>, <c>\u0022</c>), which a terminal would show as escape soup where httpie
    /// shows the text; so escapes are decoded and only what must stay escaped is written back: the quote, the
    /// backslash, and control characters, which would otherwise reach the terminal raw (an ESC starts a sequence).
    /// </summary>
    private static string Text(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped) return Raw(ref reader);
        string value;
        try { value = reader.GetString()!; }
        catch (InvalidOperationException) { return Raw(ref reader); }   // a lone surrogate escape: shown as written
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (char.IsControl(c))
                        sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    private static void NewLine(StringBuilder sb, int depth) => sb.Append('\n').Append(' ', depth * 4);

    private static void Paint(StringBuilder sb, bool colors, string color, string text)
    {
        if (colors) sb.Append(color).Append(text).Append(Reset);
        else sb.Append(text);
    }
}
