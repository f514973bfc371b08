namespace RxHttp;

/// <summary>
/// Form fields and files, aiohttp's <c>FormData</c>: sent as application/x-www-form-urlencoded while it holds only
/// plain fields, and as multipart/form-data as soon as a file, a content type or a filename is added. Files are
/// streamed from their <see cref="Stream"/> or <see cref="FileInfo"/>, never read whole into memory.
/// </summary>
/// <example><code>
/// var form = new FormData()
///     .AddField("title", "holiday")
///     .AddField("photo", new FileInfo("beach.jpg"));
/// using var response = await session.Post(url, new() { Data = form });
/// </code></example>
public sealed class FormData : Payload
{
    private readonly List<Field> _fields = new();
    private Payload? _built;

    private sealed record Field(string Name, Payload? Body, string? Text, string? ContentType, string? Filename);

    /// <summary>Creates an empty form; <paramref name="boundary"/> fixes the multipart boundary (random otherwise).</summary>
    public FormData(string? boundary = null) => Boundary = boundary;

    /// <summary>The multipart boundary, if one was chosen.</summary>
    public string? Boundary { get; }

    /// <summary>True once a file, a content type or a filename makes this multipart/form-data.</summary>
    public bool IsMultipart { get; private set; }

    /// <summary>Adds a text field; a <paramref name="contentType"/> or <paramref name="filename"/> makes the form multipart.</summary>
    public FormData AddField(string name, string value, string? contentType = null, string? filename = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Add(new Field(Check(name), null, value, contentType, filename), contentType is not null || filename is not null);
    }

    /// <summary>
    /// Adds a field formatted invariantly (numbers, booleans as true/false, dates in ISO 8601). A stream, a file or a
    /// payload is added as by its own overload; bytes become a file part named after the field, as in aiohttp; any
    /// other sequence adds one field per item, as aiohttp's <c>urlencode(doseq=True)</c> does.
    /// </summary>
    public FormData AddField(string name, object? value) => value switch
    {
        Stream s => AddField(name, s),
        FileInfo f => AddField(name, f),
        Payload p => AddField(name, p),
        _ when IsBytes(value) => AddField(name, From(value!), filename: name),
        System.Collections.IEnumerable many and not string => AddEach(name, many),
        _ => AddField(name, QueryParams.Format(name, value)),
    };

    /// <summary>The byte buffers a field takes as a file part (and a form given as pairs takes for a file).</summary>
    internal static bool IsBytes(object? value) => value is byte[] or ReadOnlyMemory<byte> or Memory<byte> or ArraySegment<byte>;

    private FormData AddEach(string name, System.Collections.IEnumerable values)
    {
        foreach (var v in values) AddField(name, v);
        return this;
    }

    /// <summary>Adds a file read from <paramref name="stream"/> (not disposed); the filename defaults to the field name, as in aiohttp.</summary>
    public FormData AddField(string name, Stream stream, string? contentType = null, string? filename = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        filename ??= stream is FileStream fs ? Path.GetFileName(fs.Name) : name;
        return Add(new Field(Check(name), new StreamPayload(stream, contentType ?? MimeTypes.Guess(filename)), null, contentType, filename), true);
    }

    /// <summary>Adds a file from disk, opened only while the body is sent; the filename defaults to the file's name.</summary>
    public FormData AddField(string name, FileInfo file, string? contentType = null, string? filename = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        return Add(new Field(Check(name), new FilePayload(file, contentType), null, contentType, filename ?? file.Name), true);
    }

    /// <summary>Adds any payload as a part of a multipart form.</summary>
    public FormData AddField(string name, Payload payload, string? contentType = null, string? filename = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return Add(new Field(Check(name), payload, null, contentType, filename), true);
    }

    /// <summary>Adds every pair of <paramref name="fields"/> as a text field.</summary>
    public FormData AddFields(IEnumerable<KeyValuePair<string, string>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        foreach (var (k, v) in fields) AddField(k, v);
        return this;
    }

    /// <inheritdoc />
    public override string? ContentType => Build().ContentType;

    /// <inheritdoc />
    public override long? Length => Build().Length;

    /// <inheritdoc />
    public override bool IsReplayable => Build().IsReplayable;

    /// <inheritdoc />
    public override ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken) =>
        Build().WriteToAsync(writer, cancellationToken);

    private FormData Add(Field field, bool multipart)
    {
        if (_built is not null) throw new InvalidOperationException("The form has already been turned into a body; build a new FormData.");
        _fields.Add(field);
        IsMultipart |= multipart;
        return this;
    }

    private static string Check(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name;
    }

    // Built once, on first use, so Content-Type, Length and the bytes agree (the boundary is chosen once).
    private Payload Build()
    {
        if (_built is { } built) return built;
        Payload result;
        if (!IsMultipart)
        {
            result = new FormUrlEncodedPayload(_fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Text!)));
        }
        else
        {
            var mp = new MultipartWriter("form-data", Boundary);
            foreach (var f in _fields)
            {
                // Plain fields carry no Content-Type, as browsers send them (RFC 7578 §4.4 defaults to text/plain).
                var body = f.Body ?? new StringPayload(f.Text!, f.ContentType ?? "text/plain; charset=utf-8");
                var headers = new HeaderCollection();
                if (f.Body is not null || f.ContentType is not null || f.Filename is not null)
                    headers.Add("Content-Type", f.ContentType ?? body.ContentType ?? "application/octet-stream");
                var part = mp.Append(body, headers);
                if (f.Body is null && f.ContentType is null && f.Filename is null) part.Headers.Remove("Content-Type");
                part.SetContentDisposition("form-data", f.Name, f.Filename);
            }
            result = mp;
        }
        return Interlocked.CompareExchange(ref _built, result, null) ?? result;
    }
}
