using System.Text;
using System.Text.Json;

namespace RxHttp.Cli;

/// <summary>
/// httpie's request items, split on the first separator (the longest at that position; <c>\</c> escapes one):
/// <c>Header:value</c>, <c>Header;</c> (empty), <c>Header:</c> (remove), <c>Header:@file</c> (value from a file),
/// <c>name==value</c> (query), <c>name==@file</c>,
/// <c>field=text</c>, <c>field:=json</c>, <c>field=@file</c> (text of a file), <c>field:=@file</c> (JSON of a file),
/// <c>field@file[;type=mime]</c> (a file upload) and <c>@file</c> (the whole body from a file).
/// </summary>
internal sealed class RequestItems
{
    private static readonly string[] Separators = { ":=@", "==@", "==", ":=", "=@", ":@", "=", "@", ":", ";" };

    public List<KeyValuePair<string, string>> Headers { get; } = new();
    public List<string> RemovedHeaders { get; } = new();
    public List<(string Key, object? Value)> Query { get; } = new();
    /// <summary>Data fields in order: Text is a string value, Json raw JSON text.</summary>
    public List<(string Name, string? Text, string? Json)> Fields { get; } = new();
    public List<(string Name, string Path, string? Type)> Files { get; } = new();
    /// <summary>Fields and files as typed (an index into either list): a multipart body keeps this order, as httpie's.</summary>
    public List<(bool File, int Index)> Order { get; } = new();
    public string? BodyFile { get; private set; }

    public bool HasData => Fields.Count > 0 || Files.Count > 0 || BodyFile is not null;

    /// <summary>True for an item that carries data (and so makes a shorthand request a POST).</summary>
    public static bool IsDataItem(string item) => Split(item) is { } s && s.Sep is ":=@" or ":=" or "=@" or "=" or "@";

    public static RequestItems Parse(IEnumerable<string> items)
    {
        var r = new RequestItems();
        foreach (var item in items)
        {
            var (key, sep, value) = Split(item) ?? throw new UsageException($"'{item}' is not a request item (Header:value, name==value, field=value, field:=json, field@file)");
            if (key.Length == 0 && sep != "@") throw new UsageException($"'{item}' has no name before '{sep}'");
            switch (sep)
            {
                case ":":
                    // A field value has no leading or trailing whitespace (RFC 9110 section 5.5): httpie strips it
                    // before sending, and so does this (a value of blanks is an empty one, not a removal).
                    if (value.Length == 0) r.RemovedHeaders.Add(key);
                    else r.Headers.Add(new(key, value.Trim()));
                    break;
                case ";":
                    if (value.Length != 0) throw new UsageException($"'{item}': use Header:value, or Header; for an empty value");
                    r.Headers.Add(new(key, ""));
                    break;
                case ":@":
                    // As httpie's process_embed_header_arg: the file's text without its final newlines (nor, as above,
                    // other surrounding whitespace: a file saved with CRLF ends in a CR).
                    r.Headers.Add(new(key, ReadFile(value, item).Trim()));
                    break;
                case "==":
                    r.Query.Add((key, value));
                    break;
                case "==@":
                    r.Query.Add((key, ReadFile(value, item).TrimEnd('\n')));
                    break;
                case "=":
                    r.Order.Add((false, r.Fields.Count));
                    r.Fields.Add((key, value, null));
                    break;
                case "=@":
                    r.Order.Add((false, r.Fields.Count));
                    r.Fields.Add((key, ReadFile(value, item), null));
                    break;
                case ":=":
                    r.Order.Add((false, r.Fields.Count));
                    r.Fields.Add((key, null, CheckJson(value, item)));
                    break;
                case ":=@":
                    r.Order.Add((false, r.Fields.Count));
                    r.Fields.Add((key, null, CheckJson(ReadFile(value, item), item)));
                    break;
                case "@" when key.Length == 0:
                    if (r.BodyFile is not null) throw new UsageException("only one @file body can be given");
                    if (!File.Exists(value)) throw new UsageException($"'{value}': no such file");
                    r.BodyFile = value;
                    break;
                case "@":
                    var path = value;
                    string? type = null;
                    var semi = value.LastIndexOf(";type=", StringComparison.Ordinal);
                    if (semi >= 0) (path, type) = (value[..semi], value[(semi + 6)..]);
                    if (!File.Exists(path)) throw new UsageException($"'{path}': no such file");
                    r.Order.Add((true, r.Files.Count));
                    r.Files.Add((key, path, type));
                    break;
            }
        }
        return r;
    }

    private static (string Key, string Sep, string Value)? Split(string item)
    {
        var key = new StringBuilder();
        for (var i = 0; i < item.Length; i++)
        {
            if (item[i] == '\\' && i + 1 < item.Length)
            {
                Escape(key, item[++i]);
                continue;
            }
            foreach (var sep in Separators)
                if (string.CompareOrdinal(item, i, sep, 0, sep.Length) == 0)
                    return (key.ToString(), sep, Unescape(item, i + sep.Length));
            key.Append(item[i]);
        }
        return null;
    }

    /// <summary>
    /// httpie's rule, in the name and the value alike: a backslash before a separator character (<c>:;=@</c>) makes it
    /// literal and goes; before anything else it stays (<c>C:\dir</c>, and <c>a\[b\]</c> for <see cref="NestedJson"/>).
    /// </summary>
    private static void Escape(StringBuilder to, char escaped)
    {
        if (":;=@".IndexOf(escaped) < 0) to.Append('\\');
        to.Append(escaped);
    }

    private static string Unescape(string item, int from)
    {
        if (item.IndexOf('\\', from) < 0) return item[from..];
        var value = new StringBuilder(item.Length - from);
        for (var i = from; i < item.Length; i++)
        {
            if (item[i] == '\\' && i + 1 < item.Length) Escape(value, item[++i]);
            else value.Append(item[i]);
        }
        return value.ToString();
    }

    private static string ReadFile(string path, string item)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"'{item}': cannot read {path}: {e.Message}"); }
    }

    private static string CheckJson(string json, string item)
    {
        try
        {
            using var _ = JsonDocument.Parse(json);
            return json;
        }
        catch (JsonException e) { throw new UsageException($"'{item}': not JSON ({e.Message})"); }
    }
}
