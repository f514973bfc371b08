using System.Runtime.CompilerServices;

namespace RxHttp;

public sealed partial class ClientResponse
{
    /// <summary>
    /// The body cut after each <paramref name="separator"/>, as aiohttp's <c>resp.content.readuntil(separator)</c>
    /// called until the end: each segment is a fresh array ending with the separator (so a whole record can be told
    /// from a cut one); the last one, when the body does not end with the separator, comes without it; an empty body
    /// gives none. For records split by NUL, <c>\r\n\r\n</c> or any byte string; <see cref="Lines"/> is the text form
    /// for line feeds. A segment longer than <paramref name="maxLength"/> (default: twice
    /// <see cref="ClientSessionOptions.ReadBufferSize"/>, the body stream's high-water mark as in aiohttp) fails with
    /// <see cref="ClientPayloadError"/> rather than buffering without bound. Cold and single-use like
    /// <see cref="Content"/>: disposing mid-body closes the connection.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="separator"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 1.</exception>
    public IObservable<byte[]> ReadUntil(ReadOnlyMemory<byte> separator, int? maxLength = null)
    {
        var splitter = Splitter(separator, maxLength);
        return StreamingObservable.From(ct => IterSplit(splitter, limit: 0, ct), OnVirtualClock);
    }

    /// <summary>The pull form of <see cref="ReadUntil"/>: the socket is read only as fast as segments are asked for.</summary>
    public IAsyncEnumerable<byte[]> IterUntil(ReadOnlyMemory<byte> separator, int? maxLength = null, CancellationToken cancellationToken = default) =>
        IterSplit(Splitter(separator, maxLength), limit: 0, cancellationToken);

    private SeparatorSplitter Splitter(ReadOnlyMemory<byte> separator, int? maxLength)
    {
        if (separator.IsEmpty) throw new ArgumentException("The separator must be at least one byte.", nameof(separator));
        if (maxLength is < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must be at least 1.");
        return new SeparatorSplitter(separator.ToArray(), maxLength ?? (int)Math.Min(int.MaxValue, 2L * ReadBufferSize));
    }
}

/// <summary>Splits bytes after each separator, across any split of the pushes (a separator may straddle two).</summary>
internal sealed class SeparatorSplitter(byte[] separator, int maxLength) : IBodySplitter<byte[]>
{
    private byte[] _pending = new byte[256];
    private int _length;
    private int _scanned; // bytes of _pending already searched (less the separator's length - 1, which may continue)
    private ClientPayloadError? _tooLong; // raised on the next call, so the segments before it are handed out first

    public void Push(ReadOnlySpan<byte> bytes, List<byte[]> output)
    {
        if (_tooLong is not null) throw _tooLong;
        if (_length + bytes.Length > _pending.Length)
            Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _length + bytes.Length));
        bytes.CopyTo(_pending.AsSpan(_length));
        _length += bytes.Length;
        var start = 0;
        while (true)
        {
            var from = Math.Max(start, _scanned - (separator.Length - 1));
            var at = _pending.AsSpan(from, _length - from).IndexOf(separator);
            if (at < 0) break;
            var end = from + at + separator.Length;
            if (end - start > maxLength)
            {
                _tooLong = TooLong();
                return;
            }
            output.Add(_pending.AsSpan(start, end - start).ToArray());
            start = _scanned = end;
        }
        if (start > 0)
        {
            _pending.AsSpan(start, _length - start).CopyTo(_pending);
            _length -= start;
        }
        _scanned = _length;
        if (_length > maxLength) _tooLong = TooLong();
    }

    public void Complete(List<byte[]> output)
    {
        if (_tooLong is not null) throw _tooLong;
        if (_length > 0) output.Add(_pending.AsSpan(0, _length).ToArray());
        _length = _scanned = 0;
    }

    private ClientPayloadError TooLong() =>
        new($"Chunk too big: more than {maxLength} bytes without the separator (raise ReadBufferSize or pass maxLength).");
}
