using System.Collections;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RxHttp;

/// <summary>
/// A multipart body (RFC 2046; multipart/form-data per RFC 7578), aiohttp's <c>MultipartWriter</c>. Parts are
/// payloads of any kind, including other writers (nested multiparts); each is streamed in turn, never read whole.
/// The length is known, and sent as Content-Length, when every part's length is. A part whose headers name a
/// <c>Content-Encoding</c> (gzip, deflate) or <c>Content-Transfer-Encoding</c> (base64, quoted-printable) is sent
/// encoded so, as aiohttp's writer does (its length is then unknown, and the body goes chunked).
/// </summary>
/// <example><code>
/// var mp = new MultipartWriter("mixed");
/// mp.AppendJson(new { a = 1 });
/// mp.Append(new FileInfo("report.pdf")).SetContentDisposition("attachment", filename: "report.pdf");
/// using var response = await session.Post(url, new() { Data = mp });
/// </code></example>
public sealed class MultipartWriter : Payload, IEnumerable<BodyPart>
{
    private const string BChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? ";
    private readonly List<BodyPart> _parts = new();

    /// <summary>Creates an empty writer for multipart/<paramref name="subtype"/> with a random boundary unless one is given.</summary>
    public MultipartWriter(string subtype = "mixed", string? boundary = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(subtype);
        foreach (var c in subtype)
            if (!HeaderValidation.IsTokenChar(c)) throw new ArgumentException($"'{subtype}' is not a valid multipart subtype.", nameof(subtype));
        boundary ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        if (boundary.Length is 0 or > 70 || boundary.EndsWith(' ') || boundary.Any(c => !BChars.Contains(c)))
            throw new ArgumentException("A boundary is 1 to 70 characters of RFC 2046's bchars and does not end with a space.", nameof(boundary));
        Subtype = subtype;
        Boundary = boundary;
        // Quote the parameter only when it is not a token (RFC 2045 §5.1), as aiohttp does.
        var quoted = boundary.All(HeaderValidation.IsTokenChar) ? boundary : "\"" + boundary + "\"";
        ContentType = $"multipart/{subtype}; boundary={quoted}";
    }

    /// <summary>The subtype: mixed, form-data, related, alternative, …</summary>
    public string Subtype { get; }

    /// <summary>The boundary between parts.</summary>
    public string Boundary { get; }

    /// <summary>The parts in order.</summary>
    public IReadOnlyList<BodyPart> Parts => _parts;

    /// <summary>
    /// Adds a part; its Content-Type comes from the payload unless <paramref name="headers"/> set one, and a
    /// Content-Encoding or Content-Transfer-Encoding among them is applied to the payload when it is written.
    /// </summary>
    /// <exception cref="ArgumentException">A coding other than gzip, deflate, identity, base64, quoted-printable, 7bit, 8bit or binary.</exception>
    public BodyPart Append(Payload payload, IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var part = new BodyPart(payload, headers is null ? new HeaderCollection() : new HeaderCollection(headers));
        PartEncoding.Check(part.Headers);
        if (payload.ContentType is { } type && !part.Headers.Contains("Content-Type")) part.Headers.Add("Content-Type", type);
        _parts.Add(part);
        return part;
    }

    /// <summary>Adds a part from anything <see cref="Payload.From"/> accepts (bytes, text, a stream, a file, a form, …).</summary>
    public BodyPart Append(object data, IEnumerable<KeyValuePair<string, string>>? headers = null) =>
        Append(From(data), headers);

    /// <summary>Adds an application/json part serialised with System.Text.Json's web defaults, or <paramref name="options"/>.</summary>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(JsonDefaults.ReflectionJson)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(JsonDefaults.DynamicJson)]
    public BodyPart AppendJson(object? value, IEnumerable<KeyValuePair<string, string>>? headers = null, JsonSerializerOptions? options = null) =>
        Append(JsonPayload.Create(value, options), headers);

    /// <summary>Adds an application/json part serialised with source-generated metadata (trim- and NativeAOT-safe).</summary>
    public BodyPart AppendJson<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, IEnumerable<KeyValuePair<string, string>>? headers = null) =>
        Append(JsonPayload.Create(value, typeInfo), headers);

    /// <summary>Adds an application/x-www-form-urlencoded part.</summary>
    public BodyPart AppendForm(IEnumerable<KeyValuePair<string, string>> fields, IEnumerable<KeyValuePair<string, string>>? headers = null) =>
        Append(new FormUrlEncodedPayload(fields), headers);

    /// <inheritdoc />
    public override long? Length
    {
        get
        {
            long total = Ascii(Close).Length;
            foreach (var part in _parts)
            {
                if (PartEncoding.Encoded(part).Length is not { } len) return null;
                total += Head(part).Length + len + 2;
            }
            return total;
        }
    }

    /// <inheritdoc />
    public override bool IsReplayable => _parts.All(p => p.Payload.IsReplayable);

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
    {
        foreach (var part in _parts)
        {
            await writer.WriteAsync(Head(part), cancellationToken).ConfigureAwait(false);
            await PartEncoding.Encoded(part).WriteToAsync(writer, cancellationToken).ConfigureAwait(false);
            await writer.WriteAsync(Crlf, cancellationToken).ConfigureAwait(false);
        }
        await writer.WriteAsync(Ascii(Close), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public IEnumerator<BodyPart> GetEnumerator() => _parts.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private string Close => "--" + Boundary + "--\r\n";
    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    // "--boundary\r\n" + headers + "\r\n". Header values are UTF-8: RFC 7578 §5.1 lets form-data names and
    // filenames travel as raw UTF-8, which is what browsers send and servers read.
    private byte[] Head(BodyPart part)
    {
        var sb = new StringBuilder("--").Append(Boundary).Append("\r\n");
        foreach (var (k, v) in part.Headers) sb.Append(k).Append(": ").Append(v).Append("\r\n");
        sb.Append("\r\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}

/// <summary>One part of a <see cref="MultipartWriter"/>: its headers and its payload.</summary>
public sealed class BodyPart
{
    internal BodyPart(Payload payload, HeaderCollection headers)
    {
        Payload = payload;
        Headers = headers;
    }

    /// <summary>The part's body.</summary>
    public Payload Payload { get; }

    /// <summary>The part's headers (validated against CR/LF like request headers).</summary>
    public HeaderCollection Headers { get; }

    /// <summary>
    /// Sets Content-Disposition, e.g. <c>form-data; name="field"; filename="a.txt"</c>. Values are quoted
    /// strings (backslash before <c>"</c> and <c>\</c>); a filename that is not plain ASCII also gets an RFC 5987
    /// <c>filename*=utf-8''…</c> form, which parsers prefer when present.
    /// </summary>
    public BodyPart SetContentDisposition(string type, string? name = null, string? filename = null, IEnumerable<KeyValuePair<string, string>>? parameters = null)
    {
        Headers.Set("Content-Disposition", ContentDisposition.Format(type, name, filename, parameters));
        return this;
    }
}
