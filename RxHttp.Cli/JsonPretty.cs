using System.Text;
using System.Text.Json;

namespace RxHttp.Cli;

/// <summary>
/// Re-indents JSON (four spaces, as httpie) token by token with <see cref="Utf8JsonReader"/>: no reflection, numbers
/// and string escapes kept exactly as the server wrote them, optional ANSI colours.
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
                        Paint(sb, colors, Key, '"' + Raw(ref reader) + '"');
                        sb.Append(": ");
                        afterName = true;
                        break;
                    case JsonTokenType.String:
                        Paint(sb, colors, Str, '"' + Raw(ref reader) + '"');
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

    private static void NewLine(StringBuilder sb, int depth) => sb.Append('\n').Append(' ', depth * 4);

    private static void Paint(StringBuilder sb, bool colors, string color, string text)
    {
        if (colors) sb.Append(color).Append(text).Append(Reset);
        else sb.Append(text);
    }
}
