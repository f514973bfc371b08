namespace RxHttp;

/// <summary>
/// A buffered read (<see cref="ClientResponse.Read"/>, <c>Text</c>, <c>Json</c>, <c>Multipart</c>) met more body bytes,
/// counted after decompression, than <see cref="ClientSessionOptions.MaxBodySize"/> or
/// <see cref="RequestOptions.MaxBodySize"/> allows, or a Content-Length announcing more. The response is released
/// (its connection closed unless the whole body had already arrived).
/// </summary>
public class ClientPayloadTooLargeError : ClientPayloadError
{
    /// <summary>Creates the error.</summary>
    public ClientPayloadTooLargeError(long limit, long? announced = null)
        : base(announced is { } length
            ? $"Response Content-Length announces {length} bytes, more than MaxBodySize ({limit} bytes). {Advice}"
            : $"Response body is larger than MaxBodySize ({limit} bytes, counted after decompression). {Advice}")
    {
        Limit = limit;
        AnnouncedLength = announced;
    }

    private const string Advice = "Raise ClientSessionOptions.MaxBodySize or RequestOptions.MaxBodySize (0 turns the limit off), " +
        "or stream the body with Content, BorrowedContent, IterChunked or GetStream().";

    /// <summary>The limit that was exceeded, in bytes.</summary>
    public long Limit { get; }

    /// <summary>The Content-Length that announced too much, or null when the bytes themselves went over.</summary>
    public long? AnnouncedLength { get; }
}

/// <summary>
/// Collects a body for a buffered read while enforcing its size limit (0 = none): every append is checked before it is
/// copied, so a decompression bomb fails after at most one read past the limit, and the array never grows beyond
/// the limit (doubling is capped there, unlike a MemoryStream).
/// </summary>
internal sealed class BoundedBodyBuffer
{
    private readonly long _limit;
    private byte[] _buffer;
    private int _length;

    public BoundedBodyBuffer(long limit, long sizeHint = 0)
    {
        _limit = limit;
        var initial = sizeHint > 0 ? Math.Min(sizeHint, Capacity) : 16 * 1024;
        _buffer = new byte[Math.Min(initial, Capacity)];
    }

    // The largest the buffer may get: the limit, and never past what one array can hold.
    private long Capacity => _limit > 0 ? Math.Min(_limit, Array.MaxLength) : Array.MaxLength;

    /// <summary>Throws <see cref="ClientPayloadTooLargeError"/> when a body of <paramref name="announced"/> bytes cannot fit.</summary>
    public static void CheckAnnounced(long limit, long announced)
    {
        if (limit > 0 && announced > limit) throw new ClientPayloadTooLargeError(limit, announced);
    }

    /// <summary>Counts <paramref name="total"/> bytes seen so far against <paramref name="limit"/>, for reads that hand parts out as they go.</summary>
    public static void CheckCount(long limit, long total)
    {
        if (limit > 0 && total > limit) throw new ClientPayloadTooLargeError(limit);
    }

    public int Length => _length;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        var needed = (long)_length + bytes.Length;
        CheckCount(_limit, needed);
        if (needed > Array.MaxLength) throw new ClientPayloadTooLargeError(Array.MaxLength);
        if (needed > _buffer.Length)
        {
            var grown = Math.Min(Math.Max(needed, (long)_buffer.Length * 2), Capacity);
            Array.Resize(ref _buffer, (int)grown);
        }
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length = (int)needed;
    }

    /// <summary>The body as an array of exactly its length (the buffer itself when it is already exact).</summary>
    public byte[] ToArray() => _length == _buffer.Length ? _buffer : _buffer.AsSpan(0, _length).ToArray();
}
