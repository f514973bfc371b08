using System.Text;
using System.Text.Json;

namespace RxHttp.Cli;

/// <summary>Builds the request body and the headers that go with it from the items, --raw, an @file or stdin.</summary>
internal static class RequestBody
{
    public const string JsonAccept = "application/json, */*;q=0.5";

    /// <summary>The payload (null for none) and the Content-Type/Accept it implies.</summary>
    public static Payload? Build(CliSettings s, RequestItems items, CliIO io, List<KeyValuePair<string, string>> impliedHeaders)
    {
        var sources = (items.Fields.Count + items.Files.Count > 0 ? 1 : 0) + (items.BodyFile is null ? 0 : 1) + (s.Raw is null ? 0 : 1);
        if (sources > 1) throw new UsageException("give the body one way: data items, @file or --raw");

        if (s.Raw is not null) return Typed(new BytesPayload(Encoding.UTF8.GetBytes(s.Raw)), s, impliedHeaders);
        if (items.BodyFile is { } bodyFile) return Typed(Payload.From(new FileInfo(bodyFile)), s, impliedHeaders, guess: GuessType(bodyFile));

        var multipart = s.Body == BodyKind.Multipart || (s.Body == BodyKind.Form && items.Files.Count > 0);
        if (items.Files.Count > 0 && !multipart)
            throw new UsageException("file fields (field@file) need --form or --multipart");

        if (items.Fields.Count == 0 && items.Files.Count == 0)
        {
            if (s.Body == BodyKind.Json && s.BodyKindGiven) impliedHeaders.Add(new("Accept", JsonAccept));
            if (!multipart && StdinBody(s, io) is { Length: > 0 } piped) return Typed(new BytesPayload(piped), s, impliedHeaders);
            return null;
        }

        if (multipart)
        {
            // A text field given as a payload makes FormData multipart even without a file: --multipart means multipart.
            var form = new FormData();
            foreach (var (file, index) in items.Order)
            {
                if (file)
                {
                    var (name, path, type) = items.Files[index];
                    form.AddField(name, new FileInfo(path), type);
                    continue;
                }
                var (field, text, json) = items.Fields[index];
                if (json is not null) form.AddField(field, json, "application/json");
                else form.AddField(field, new StringPayload(text!));
            }
            return form;
        }
        if (s.Body == BodyKind.Form)
        {
            if (items.Fields.Any(f => f.Json is not null)) throw new UsageException("raw JSON fields (field:=json) need --json");
            // QueryParams, not tuples: the library reads tuples by reflection, which Native AOT may trim away.
            return Payload.From(new QueryParams(items.Fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Text!))));
        }

        impliedHeaders.Add(new("Content-Type", "application/json"));
        impliedHeaders.Add(new("Accept", JsonAccept));
        return new JsonPayload(NestedJson.Build(items.Fields));
    }

    private static Payload Typed(Payload body, CliSettings s, List<KeyValuePair<string, string>> implied, string? guess = null)
    {
        var type = s.BodyKindGiven
            ? s.Body switch { BodyKind.Form => "application/x-www-form-urlencoded", BodyKind.Multipart => null, _ => "application/json" }
            : guess ?? "application/json";
        if (type is not null) implied.Add(new("Content-Type", type));
        if (type == "application/json") implied.Add(new("Accept", JsonAccept));
        return body;
    }

    private static byte[]? StdinBody(CliSettings s, CliIO io)
    {
        if (s.IgnoreStdin || io.InIsTerminal || s.WebSocket) return null;
        if (io.InStream is { } raw)
        {
            using var buffer = new MemoryStream();
            raw.CopyTo(buffer);
            return buffer.ToArray();
        }
        return Encoding.UTF8.GetBytes(io.In.ReadToEnd());
    }

    private static string? GuessType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".json" => "application/json",
        ".txt" => "text/plain",
        ".xml" => "application/xml",
        ".html" or ".htm" => "text/html",
        ".csv" => "text/csv",
        ".yaml" or ".yml" => "application/yaml",
        _ => null,
    };
}
