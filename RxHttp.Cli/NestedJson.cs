using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RxHttp.Cli;

/// <summary>
/// httpie 3's nested JSON: a data field's name is a path, <c>a[b]=1</c> <c>a[]=2</c> <c>a[0]=3</c> (<c>[]=1</c>
/// for a top-level array, <c>\[</c> <c>\]</c> <c>\\</c> for literal brackets and backslashes), and a later field
/// overwrites an earlier one at the same path, so the object never holds a name twice. Values stay as typed: text is
/// written as a JSON string, raw JSON (<c>:=</c>) byte for byte, and a raw value is never reached into.
/// </summary>
internal static class NestedJson
{
    private enum Kind { Text, Number, Open, Close }

    private readonly record struct Token(Kind Kind, string Text, int Number);

    private enum Step { Key, Index, Append }

    private readonly record struct PathPart(Step Step, string Key, int Index);

    /// <summary>A value as typed: a string, or raw JSON text.</summary>
    private sealed record Leaf(string? Text, string? Json);

    /// <summary>An object keeps its names in first-seen order, as httpie's dict does.</summary>
    private sealed class Obj
    {
        public List<string> Names { get; } = new();
        public Dictionary<string, object?> Values { get; } = new(StringComparer.Ordinal);

        public object? GetOrAdd(string name, object? fresh)
        {
            if (Values.TryGetValue(name, out var v)) return v;
            Set(name, fresh);
            return fresh;
        }

        public void Set(string name, object? value)
        {
            if (!Values.ContainsKey(name)) Names.Add(name);
            Values[name] = value;
        }
    }

    /// <summary>The JSON body for <paramref name="fields"/>: an object, or an array when the paths start with <c>[</c>.</summary>
    public static string Build(IEnumerable<(string Name, string? Text, string? Json)> fields)
    {
        object? root = null;
        foreach (var (name, text, json) in fields)
            root = Set(root, name, new Leaf(text, json));
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) Write(w, root ?? new Obj());
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static object Set(object? root, string name, Leaf value)
    {
        var parts = Parse(name);
        root ??= Fresh(parts[0].Step);
        object cursor = root;
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            var last = i == parts.Count - 1;
            object? next = last ? null : Fresh(parts[i + 1].Step);
            switch (part.Step)
            {
                case Step.Key:
                    var obj = cursor as Obj ?? throw TypeError(name, parts, i, cursor, "an object");
                    if (last) obj.Set(part.Key, value);
                    else cursor = obj.GetOrAdd(part.Key, next!)!;
                    break;
                case Step.Index:
                    var list = cursor as List<object?> ?? throw TypeError(name, parts, i, cursor, "an array");
                    while (list.Count <= part.Index) list.Add(null);
                    if (last) list[part.Index] = value;
                    else cursor = list[part.Index] ??= next!;
                    break;
                default:
                    var tail = cursor as List<object?> ?? throw TypeError(name, parts, i, cursor, "an array");
                    tail.Add(last ? value : next);
                    if (!last) cursor = next!;
                    break;
            }
        }
        return root;
    }

    private static object Fresh(Step step) => step == Step.Key ? new Obj() : new List<object?>();

    private static UsageException TypeError(string name, List<PathPart> parts, int at, object? found, string wanted)
    {
        var path = new StringBuilder();
        for (var i = 0; i < at; i++)
            path.Append(parts[i].Step switch
            {
                Step.Key when i == 0 => parts[i].Key,
                Step.Key => "[" + parts[i].Key + "]",
                Step.Index => "[" + parts[i].Index.ToString(CultureInfo.InvariantCulture) + "]",
                _ => "[]",
            });
        var what = found switch { Obj => "an object", List<object?> => "an array", Leaf { Text: not null } => "a string", _ => "a raw JSON value" };
        return new UsageException($"'{name}': '{path}' is {what}, and this path needs {wanted} there");
    }

    /// <summary>root (TEXT | NUMBER | [NUMBER] | []), then ([TEXT] | [NUMBER] | [])*; an empty name is the key "".</summary>
    private static List<PathPart> Parse(string name)
    {
        var tokens = Tokenize(name);
        var parts = new List<PathPart>();
        var at = 0;
        Token Expect(params Kind[] kinds)
        {
            if (at < tokens.Count && Array.IndexOf(kinds, tokens[at].Kind) >= 0) return tokens[at++];
            var wanted = string.Join(" or ", kinds.Select(k => k switch { Kind.Open => "'['", Kind.Close => "']'", Kind.Number => "a number", _ => "a name" }));
            throw new UsageException($"'{name}': expected {wanted} at {(at < tokens.Count ? $"'{tokens[at].Text}'" : "the end")} (\\[ and \\] are literal brackets)");
        }

        if (tokens.Count == 0) return new List<PathPart> { new(Step.Key, "", 0) };
        var first = Expect(Kind.Text, Kind.Number, Kind.Open);
        if (first.Kind != Kind.Open) parts.Add(new(Step.Key, first.Text, 0));
        else parts.Add(Bracketed(Expect(Kind.Number, Kind.Close)));
        while (at < tokens.Count)
        {
            Expect(Kind.Open);
            parts.Add(Bracketed(Expect(Kind.Text, Kind.Number, Kind.Close)));
        }
        return parts;

        PathPart Bracketed(Token inside)
        {
            if (inside.Kind == Kind.Close) return new(Step.Append, "", 0);
            Expect(Kind.Close);
            if (inside.Kind == Kind.Text) return new(Step.Key, inside.Text, 0);
            if (inside.Number < 0) throw new UsageException($"'{name}': negative indexes are not supported");
            return new(Step.Index, "", inside.Number);
        }
    }

    private static List<Token> Tokenize(string name)
    {
        var tokens = new List<Token>();
        var buffer = new StringBuilder();
        var escaped = false;
        void Flush()
        {
            if (buffer.Length == 0) return;
            var text = buffer.ToString();
            // A bare number is an index; \5 is the name "5" (httpie's check_escaped_int).
            if (!escaped && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) tokens.Add(new(Kind.Number, text, n));
            else if (!escaped && text.Length > 1 && text[0] == '\\' && int.TryParse(text.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)) tokens.Add(new(Kind.Text, text[1..], 0));
            else tokens.Add(new(Kind.Text, text, 0));
            buffer.Clear();
            escaped = false;
        }
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c is '[' or ']')
            {
                Flush();
                tokens.Add(new(c == '[' ? Kind.Open : Kind.Close, c.ToString(), 0));
            }
            else if (c == '\\' && i + 1 < name.Length)
            {
                var next = name[++i];
                if (next is '[' or ']' or '\\') escaped = true;
                else buffer.Append('\\');
                buffer.Append(next);
            }
            else
            {
                buffer.Append(c);
            }
        }
        Flush();
        return tokens;
    }

    private static void Write(Utf8JsonWriter w, object? node)
    {
        switch (node)
        {
            case Obj o:
                w.WriteStartObject();
                foreach (var name in o.Names)
                {
                    w.WritePropertyName(name);
                    Write(w, o.Values[name]);
                }
                w.WriteEndObject();
                break;
            case List<object?> list:
                w.WriteStartArray();
                foreach (var item in list) Write(w, item);
                w.WriteEndArray();
                break;
            case Leaf { Json: { } json }:
                w.WriteRawValue(json);
                break;
            case Leaf leaf:
                w.WriteStringValue(leaf.Text);
                break;
            default:
                w.WriteNullValue();
                break;
        }
    }
}
