using System.Reactive.Linq;
using System.Text;
using System.Text.Json;

namespace RxHttp;

/// <summary>
/// One part of a multipart body that was received (aiohttp's <c>BodyPartReader</c>, read whole): its headers and
/// content. <see cref="ClientResponse.Multipart"/> hands them out as they complete.
/// </summary>
public sealed class ReceivedPart
{
    private readonly bool _inFormData;
    private readonly int _maxDecoded;

    internal ReceivedPart(HeaderCollection headers, byte[] content, bool inFormData = false, int maxDecoded = MultipartReader.DefaultMaxPartSize)
    {
        Headers = headers;
        Content = content;
        _inFormData = inFormData;
        _maxDecoded = maxDecoded;
    }

    /// <summary>The part's headers (case-insensitive, read-only).</summary>
    public HeaderCollection Headers { get; }

    /// <summary>The part's bytes, as sent (its Content-Transfer-Encoding and Content-Encoding not undone: see <see cref="Decode"/>).</summary>
    public byte[] Content { get; }

    /// <summary>
    /// The content with its Content-Transfer-Encoding (<c>base64</c>, <c>quoted-printable</c>; <c>7bit</c>, <c>8bit</c>
    /// and <c>binary</c> are as sent) and then its Content-Encoding (<c>gzip</c>, <c>deflate</c>, <c>identity</c>)
    /// undone, as aiohttp's <c>BodyPartReader.decode()</c>; <see cref="Text"/> and <see cref="Json{T}(JsonSerializerOptions?)"/>
    /// read this. <see cref="Content"/> itself when the part has neither header. In <c>multipart/form-data</c> a
    /// Content-Encoding is left alone (RFC 7578 §4.8, as aiohttp), and decompressed content is bounded by the
    /// reader's part size.
    /// </summary>
    /// <exception cref="ClientPayloadError">An unknown coding, content that is not in the coding its header names, or decompressed content over the part size.</exception>
    public byte[] Decode() => PartDecoding.Decode(Headers, Content, contentEncoding: !_inFormData, _maxDecoded);

    /// <summary>The part's Content-Disposition, or null.</summary>
    public ContentDisposition? ContentDisposition => ContentDisposition.Parse(Headers.Get("Content-Disposition"));

    /// <summary>
    /// The <c>name</c> of its Content-Disposition (a form field's name), read as <see cref="RxHttp.ContentDisposition.FileName"/>
    /// is: <c>name*</c> when given, else the continuations <c>name*0</c>, …, else <c>name</c>; null when there is none.
    /// </summary>
    public string? Name => ContentDisposition?.Value("name");

    /// <summary>The file name of its Content-Disposition (see <see cref="RxHttp.ContentDisposition.FileName"/>), or null.</summary>
    public string? FileName => ContentDisposition?.FileName;

    /// <summary>The media type of its Content-Type in lower case; <c>text/plain</c> when it has none (RFC 2046 §5.1).</summary>
    public string ContentType
    {
        get
        {
            var header = Headers.Get("Content-Type");
            if (string.IsNullOrWhiteSpace(header) || header.TrimStart().StartsWith(';')) return "text/plain"; // no media type: RFC 2046's default
            ContentTypeHeader.Parse(header, out var type, out _);
            return type;
        }
    }

    /// <summary>
    /// The <see cref="Decode">decoded</see> content as text with <paramref name="encoding"/>, else the part's charset,
    /// else UTF-8, strictly as aiohttp's <c>BodyPartReader.text()</c>: content that is not valid UTF-8 then fails with
    /// <see cref="TextDecodeError"/>.
    /// </summary>
    public string Text(Encoding? encoding = null)
    {
        var content = Decode();
        if (encoding is not null) return encoding.GetString(content);
        ContentTypeHeader.Parse(Headers.Get("Content-Type"), out _, out var charset);
        var named = charset is null ? null : ContentTypeHeader.EncodingNamed(charset);
        var own = named ?? Encoding.UTF8; // an unknown charset reads as none (ClientResponse.EncodingOf's rule)
        if (own is UTF8Encoding && !System.Text.Unicode.Utf8.IsValid(content))
            throw TextDecodeError.Utf8(content, declared: named is not null, "part", "pass its encoding to Text()", unknownCharset: named is null ? charset : null);
        return own.GetString(content);
    }

    /// <summary>The <see cref="Decode">decoded</see> content deserialised as JSON; a malformed document is a <see cref="ClientPayloadError"/>.</summary>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(ClientResponse.ReflectionJson)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(ClientResponse.DynamicJson)]
    public T? Json<T>(JsonSerializerOptions? options = null) => Json(JsonDefaults.TypeInfo<T>(options ?? JsonDefaults.Web));

    /// <summary>The <see cref="Decode">decoded</see> content deserialised with source-generated metadata (trim- and NativeAOT-safe); a malformed document is a <see cref="ClientPayloadError"/>.</summary>
    public T? Json<T>(System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return ClientResponse.Deserialize(Decode(), typeInfo, "Part");
    }

    /// <summary>A nested multipart part (<c>multipart/mixed</c> inside <c>multipart/form-data</c>, …) parsed into its parts.</summary>
    /// <exception cref="ClientPayloadError">The part is not multipart, or malformed.</exception>
    public IReadOnlyList<ReceivedPart> Parts() => MultipartReader.Parse(Content, Headers.Get("Content-Type") ?? "");

    /// <inheritdoc />
    public override string ToString() => $"<ReceivedPart {ContentType}, {Content.Length} bytes{(Name is { } n ? ", name=" + n : "")}>";
}

/// <summary>
/// Reads multipart bodies (RFC 2046): <see cref="ClientResponse.Multipart"/> for a response, <see cref="Parse"/> for
/// bytes at hand. Tolerant where RFC 2046 asks it to be (a preamble and an epilogue are skipped, padding after a
/// boundary is allowed), strict where a truncated body could pass for a whole one (no closing boundary is an error).
/// </summary>
public static class MultipartReader
{
    /// <summary>The largest part accepted by default: the bound the response's buffered readers use.</summary>
    public const int DefaultMaxPartSize = 64 * 1024 * 1024;

    /// <summary>Splits a whole multipart body into its parts.</summary>
    /// <param name="body">The body.</param>
    /// <param name="contentType">The body's Content-Type, with its <c>boundary</c> parameter.</param>
    /// <param name="maxPartSize">The largest part accepted.</param>
    /// <exception cref="ClientPayloadError">No multipart type or boundary, or a malformed body.</exception>
    public static IReadOnlyList<ReceivedPart> Parse(ReadOnlySpan<byte> body, string contentType, int maxPartSize = DefaultMaxPartSize)
    {
        var boundary = BoundaryOf(contentType) ?? throw new ClientPayloadError($"Not a multipart content type with a boundary: '{contentType}'.");
        var parser = new MultipartParser(boundary, maxPartSize, MultipartReader.IsFormData(contentType));
        var parts = new List<ReceivedPart>();
        parser.Push(body, parts);
        parser.Complete();
        return parts;
    }

    internal static bool IsFormData(string? contentType) =>
        contentType is not null && contentType.TrimStart().StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    /// <summary>The boundary of a <c>multipart/*</c> Content-Type, or null when it is not one or has no valid boundary (1–70 characters).</summary>
    public static string? BoundaryOf(string? contentType)
    {
        if (contentType is null) return null;
        var semi = contentType.IndexOf(';');
        var type = (semi < 0 ? contentType : contentType[..semi]).Trim();
        if (semi < 0 || !type.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase)) return null;
        var parameters = new List<KeyValuePair<string, string>>();
        HeaderParameters.Parse(contentType, semi, parameters, stopAtComma: false);
        foreach (var (name, value) in parameters)
            if (name == "boundary") return value.Length is >= 1 and <= 70 && !value.Any(char.IsControl) && value.All(char.IsAscii) ? value : null;
        return null;
    }
}

/// <summary>
/// A push parser for a multipart body: bytes go in as they arrive, split anywhere, and each part comes out once its
/// closing delimiter has been seen. What is not yet known to be content stays in one buffer, scanned once.
/// </summary>
internal sealed class MultipartParser : IBodySplitter<ReceivedPart>
{
    private const int MaxHeaderLine = 8190; // aiohttp's limits for a head line and the number of headers
    private const int MaxHeaders = 128;

    private enum State { Preamble, AfterBoundary, Headers, Body, End }

    private readonly byte[] _delimiter; // CRLF "--" boundary
    private readonly int _maxPartSize;
    private byte[] _buf = new byte[4096];
    private int _len;
    private int _pos;      // next byte to parse
    private int _scanFrom; // in the body: no delimiter starts before this
    private State _state = State.Preamble;
    private HeaderCollection _headers = new();

    private readonly bool _formData;

    public MultipartParser(string boundary, int maxPartSize, bool formData = false)
    {
        _formData = formData;
        _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        _maxPartSize = maxPartSize;
        // The first delimiter may open the body without a CRLF before it: the preamble is read as if one came first.
        Append("\r\n"u8);
    }

    public bool Ended => _state == State.End;

    public void Push(ReadOnlySpan<byte> bytes, List<ReceivedPart> output)
    {
        if (_state == State.End) return; // the epilogue is ignored
        Compact();
        Append(bytes);
        Run(output);
    }

    /// <summary>The body ended.</summary>
    /// <exception cref="ClientPayloadError">Before its closing boundary.</exception>
    public void Complete(List<ReceivedPart> output) => Complete();

    /// <inheritdoc cref="Complete(List{ReceivedPart})"/>
    public void Complete()
    {
        if (_state != State.End)
            throw new ClientPayloadError(_state == State.Preamble
                ? "Multipart body has no boundary line."
                : "Multipart body ended before its closing boundary.");
    }

    private void Run(List<ReceivedPart> output)
    {
        while (true)
        {
            switch (_state)
            {
                case State.Preamble:
                {
                    var at = IndexOfDelimiter(_pos);
                    if (at < 0)
                    {
                        // Only the tail that could begin a delimiter is kept.
                        _pos = Math.Max(_pos, _len - (_delimiter.Length - 1));
                        return;
                    }
                    _pos = at + _delimiter.Length;
                    _state = State.AfterBoundary;
                    break;
                }
                case State.AfterBoundary:
                {
                    if (_len - _pos < 2) return;
                    if (_buf[_pos] == '-' && _buf[_pos + 1] == '-')
                    {
                        _state = State.End;
                        return;
                    }
                    // Transport padding, then CRLF.
                    var i = _pos;
                    while (i < _len && _buf[i] is (byte)' ' or (byte)'\t') i++;
                    if (i - _pos > MaxHeaderLine) throw new ClientPayloadError("Multipart boundary line is too long.");
                    if (_len - i < 2) return;
                    if (_buf[i] != '\r' || _buf[i + 1] != '\n') throw new ClientPayloadError("Multipart boundary is not followed by CRLF.");
                    _pos = i + 2;
                    _headers = new HeaderCollection();
                    _state = State.Headers;
                    break;
                }
                case State.Headers:
                {
                    var line = _buf.AsSpan(_pos, _len - _pos);
                    var crlf = line.IndexOf("\r\n"u8);
                    if (crlf < 0)
                    {
                        if (line.Length > MaxHeaderLine) throw new ClientPayloadError($"Multipart header line is longer than {MaxHeaderLine} bytes.");
                        return;
                    }
                    if (crlf > MaxHeaderLine) throw new ClientPayloadError($"Multipart header line is longer than {MaxHeaderLine} bytes.");
                    _pos += crlf + 2;
                    if (crlf == 0)
                    {
                        _headers.MakeReadOnly();
                        _scanFrom = _pos;
                        _state = State.Body;
                        break;
                    }
                    AddHeader(line[..crlf]);
                    break;
                }
                case State.Body:
                {
                    // The body starts at _pos; "\r\n--boundary" ends it.
                    var at = IndexOfDelimiter(_scanFrom);
                    if (at < 0)
                    {
                        // In long: int.MaxValue, the natural "no limit", would wrap to a negative bound and fail every part.
                        if (_len - _pos > (long)_maxPartSize + _delimiter.Length) throw new ClientPayloadError($"Multipart part is larger than {_maxPartSize} bytes.");
                        _scanFrom = Math.Max(_pos, _len - (_delimiter.Length - 1));
                        return;
                    }
                    if (at - _pos > _maxPartSize) throw new ClientPayloadError($"Multipart part is larger than {_maxPartSize} bytes.");
                    output.Add(new ReceivedPart(_headers, _buf.AsSpan(_pos, at - _pos).ToArray(), _formData, _maxPartSize));
                    _pos = at + _delimiter.Length;
                    _state = State.AfterBoundary;
                    break;
                }
                default:
                    return;
            }
        }
    }

    private int IndexOfDelimiter(int from)
    {
        var i = _buf.AsSpan(from, _len - from).IndexOf(_delimiter);
        return i < 0 ? -1 : from + i;
    }

    private void AddHeader(ReadOnlySpan<byte> line)
    {
        if (line[0] is (byte)' ' or (byte)'\t') throw new ClientPayloadError("Multipart header line is folded (obs-fold).");
        var colon = line.IndexOf((byte)':');
        if (colon <= 0) throw new ClientPayloadError("Multipart header line has no name.");
        var name = Encoding.Latin1.GetString(line[..colon]);
        if (!name.All(HeaderValidation.IsTokenChar)) throw new ClientPayloadError($"Multipart header name '{name}' is not a token.");
        if (_headers.Count >= MaxHeaders) throw new ClientPayloadError($"Multipart part has more than {MaxHeaders} headers.");
        // UTF-8 where it decodes (browsers send file names that way), else Latin-1, as the response head is read.
        var raw = line[(colon + 1)..].Trim(" \t"u8);
        if (raw.IndexOfAny((byte)'\r', (byte)'\n', (byte)0) >= 0) throw new ClientPayloadError($"Multipart header '{name}' has a bare CR, LF or NUL.");
        string value;
        try
        {
            value = StrictEncodings.Utf8.GetString(raw);
        }
        catch (DecoderFallbackException)
        {
            value = Encoding.Latin1.GetString(raw);
        }
        _headers.Add(name, value);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_len + bytes.Length > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + bytes.Length));
        bytes.CopyTo(_buf.AsSpan(_len));
        _len += bytes.Length;
    }

    // Drops what has been parsed, so the buffer holds at most one part's unfinished content.
    private void Compact()
    {
        if (_pos == 0) return;
        Buffer.BlockCopy(_buf, _pos, _buf, 0, _len - _pos);
        _len -= _pos;
        _scanFrom -= Math.Min(_scanFrom, _pos);
        _pos = 0;
    }
}

public sealed partial class ClientResponse
{
    /// <summary>
    /// A multipart body (<c>multipart/mixed</c>, <c>multipart/form-data</c>, <c>multipart/byteranges</c>, …) as its parts,
    /// each handed out as soon as its closing boundary arrives: aiohttp's <c>MultipartReader.from_response</c>, with each
    /// part read whole (at most <paramref name="maxPartSize"/> bytes). Cold and single-use like <see cref="Content"/>.
    /// A response that is not multipart fails with <see cref="ContentTypeError"/> (and is released); a malformed or
    /// truncated body with <see cref="ClientPayloadError"/>; a body of more than the session's or request's
    /// <see cref="ClientSessionOptions.MaxBodySize"/> (all parts together, after decompression) with
    /// <see cref="ClientPayloadTooLargeError"/>.
    /// </summary>
    public IObservable<ReceivedPart> Multipart(int maxPartSize = MultipartReader.DefaultMaxPartSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPartSize, 0);
        return StreamingObservable.From(ct => IterMultipart(maxPartSize, ct), OnVirtualClock);
    }

    /// <summary>The pull form of <see cref="Multipart"/>: the socket is read only as fast as parts are asked for.</summary>
    /// <exception cref="ContentTypeError">The response is not multipart (it is released).</exception>
    public IAsyncEnumerable<ReceivedPart> IterMultipart(int maxPartSize = MultipartReader.DefaultMaxPartSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPartSize, 0);
        var contentType = Headers.Get("Content-Type");
        if (MultipartReader.BoundaryOf(contentType) is not { } boundary)
        {
            Release();
            throw ContentTypeMismatch($"Attempt to read a multipart body with unexpected Content-Type: {contentType ?? "(none)"}");
        }
        return IterSplit(new MultipartParser(boundary, maxPartSize, MultipartReader.IsFormData(contentType)), MaxBodySize, cancellationToken);
    }
}
