namespace RxHttp.Fuzz;

/// <summary>
/// A body delivered in the given pieces (the last size repeated), as reads of a socket: the decompression target
/// splits bodies with it, and the decoding tests deliver them byte by byte or at every offset.
/// </summary>
public sealed class PiecewiseStream(byte[] data, IEnumerable<int> sizes) : Stream
{
    private readonly IEnumerator<int> _sizes = sizes.GetEnumerator();
    private int _pos, _left, _last = 1;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _pos; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_pos == data.Length || buffer.IsEmpty) return 0;
        if (_left == 0) _left = _last = _sizes.MoveNext() ? _sizes.Current : _last;
        var n = Math.Min(Math.Min(buffer.Length, _left), data.Length - _pos);
        data.AsSpan(_pos, n).CopyTo(buffer);
        _pos += n;
        _left -= n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));
}
