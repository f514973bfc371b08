using System.Text;

namespace RxHttp;

/// <summary>
/// A request body. Knows its content type and, when it can, its length; writes itself to the connection.
/// A payload that can be written twice (bytes, text, JSON) is replayable and survives 307/308 redirects
/// and retries.
/// </summary>
public abstract class Payload
{
    /// <summary>The Content-Type to send unless the request sets one.</summary>
    public virtual string? ContentType { get; protected init; }

    /// <summary>The body length when known in advance; null sends the body chunked.</summary>
    public virtual long? Length => null;

    /// <summary>Whether <see cref="WriteToAsync"/> can be called more than once.</summary>
    public virtual bool IsReplayable => false;

    /// <summary>Writes the body through <paramref name="writer"/>.</summary>
    public abstract ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken);

    /// <summary>
    /// The payload for a request's <c>Data</c>, as aiohttp picks one: a <see cref="Payload"/> (including
    /// <see cref="FormData"/> and <see cref="MultipartWriter"/>) as is; bytes as application/octet-stream; a string
    /// as text/plain; charset=utf-8; a dictionary, a list of pairs or tuples, a dictionary of lists or
    /// <see cref="QueryParams"/> as application/x-www-form-urlencoded, or as multipart/form-data (a <see cref="FormData"/>)
    /// when one of its values is a stream, a file, a payload or bytes; a <see cref="Stream"/> streamed (with
    /// Content-Length when it can seek); a <see cref="FileInfo"/> streamed from disk; an
    /// <see cref="IAsyncEnumerable{T}"/> or <see cref="IObservable{T}"/> of chunks sent chunked; another
    /// <see cref="ClientResponse"/> whose body is piped through.
    /// </summary>
    /// <exception cref="ArgumentException">The type cannot be sent as a body.</exception>
    public static Payload From(object data) => data switch
    {
        null => throw new ArgumentNullException(nameof(data)),
        Payload p => p,
        byte[] b => new BytesPayload(b),
        ReadOnlyMemory<byte> m => new BytesPayload(m),
        Memory<byte> m => new BytesPayload(m),
        ArraySegment<byte> a => new BytesPayload(a),
        string s => new StringPayload(s),
        Stream s => new StreamPayload(s),
        FileInfo f => new FilePayload(f),
        IPipedBody piped => piped.ToPayload(),
        IAsyncEnumerable<ReadOnlyMemory<byte>> e => new AsyncEnumerablePayload(e),
        IAsyncEnumerable<byte[]> e => new AsyncEnumerablePayload(AsMemory(e)),
        IObservable<ReadOnlyMemory<byte>> o => new ObservablePayload(o),
        IObservable<byte[]> o => new ObservablePayload(System.Reactive.Linq.Observable.Select(o, b => (ReadOnlyMemory<byte>)b)),
        _ => FromOther(data)
             ?? FormUrlEncodedPayload.TryCreate(data)
             ?? throw new ArgumentException($"Cannot send a {data.GetType().Name} as a request body.", nameof(data)),
    };

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> AsMemory(IAsyncEnumerable<byte[]> source,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var b in source.WithCancellation(ct).ConfigureAwait(false)) yield return b;
    }

    // Extension point for the body kinds in Content/ (forms, streams, sequences); null when unknown.
    internal static Func<object, Payload?> FromOther { get; set; } = _ => null;
}

/// <summary>Where a payload writes: the connection, framed with Content-Length or chunked as the request decided.</summary>
public abstract class PayloadWriter
{
    /// <summary>Writes <paramref name="data"/> (copied or sent before this returns; the caller may reuse it).</summary>
    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Bytes written so far (before any transfer framing).</summary>
    public abstract long BytesWritten { get; }

    /// <summary>
    /// True when the request runs on a virtual-time scheduler: a payload whose data comes from a producer's callback
    /// resumes its writing there, inline, since a test's clock only reaches what runs on its own thread.
    /// </summary>
    internal virtual bool OnVirtualClock => false;
}

/// <summary>A body from bytes (application/octet-stream unless told otherwise).</summary>
public sealed class BytesPayload : Payload
{
    /// <summary>Creates the payload.</summary>
    public BytesPayload(ReadOnlyMemory<byte> data, string contentType = "application/octet-stream")
    {
        Data = data;
        ContentType = contentType;
    }

    /// <summary>The bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <inheritdoc />
    public override long? Length => Data.Length;

    /// <inheritdoc />
    public override bool IsReplayable => true;

    /// <inheritdoc />
    public override ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken) =>
        Data.IsEmpty ? ValueTask.CompletedTask : writer.WriteAsync(Data, cancellationToken);
}

/// <summary>A text body (text/plain; charset=utf-8 unless told otherwise).</summary>
public sealed class StringPayload : Payload
{
    private readonly byte[] _bytes;

    /// <summary>
    /// Creates the payload, encoding <paramref name="text"/> with <paramref name="encoding"/>; without one, with the
    /// charset of <paramref name="contentType"/> (as aiohttp's <c>StringPayload</c>), else UTF-8.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="contentType"/> names a charset .NET does not know and no encoding is given.</exception>
    public StringPayload(string text, string? contentType = null, Encoding? encoding = null)
    {
        encoding ??= CharsetOf(contentType) ?? Encoding.UTF8;
        _bytes = encoding.GetBytes(text);
        ContentType = contentType ?? $"text/plain; charset={encoding.WebName}";
    }

    // The bytes must be in the charset the header declares, or the server decodes them into something else.
    private static Encoding? CharsetOf(string? contentType)
    {
        // Read as a response's Content-Type is, so a header names the same charset on both sides.
        ContentTypeHeader.Parse(contentType, out _, out var charset);
        if (charset is null) return null;
        return ContentTypeHeader.EncodingNamed(charset)
            ?? throw new ArgumentException($"Cannot encode text as '{charset}' (from '{contentType}'): pass its Encoding.", nameof(contentType));
    }

    /// <inheritdoc />
    public override long? Length => _bytes.Length;

    /// <inheritdoc />
    public override bool IsReplayable => true;

    /// <inheritdoc />
    public override ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken) =>
        _bytes.Length == 0 ? ValueTask.CompletedTask : writer.WriteAsync(_bytes, cancellationToken);

    internal ReadOnlyMemory<byte> Bytes => _bytes;
}

/// <summary>A JSON body, serialised once by the session's serializer (application/json).</summary>
public sealed partial class JsonPayload : Payload
{
    private readonly byte[] _bytes;

    /// <summary>Creates the payload from already serialised JSON text.</summary>
    public JsonPayload(string json, string contentType = "application/json")
    {
        _bytes = Encoding.UTF8.GetBytes(json);
        ContentType = contentType;
    }

    /// <inheritdoc />
    public override long? Length => _bytes.Length;

    /// <inheritdoc />
    public override bool IsReplayable => true;

    /// <inheritdoc />
    public override ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken) =>
        writer.WriteAsync(_bytes, cancellationToken);
}

// A body that can be sent on as a request's: a ClientResponse (aiohttp's data=resp.content). The response lives above
// Content, so it names its payload (ResponsePayload, beside it) itself.
internal interface IPipedBody
{
    Payload ToPayload();
}
