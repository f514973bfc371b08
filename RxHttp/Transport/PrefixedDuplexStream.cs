namespace RxHttp.Transport;

/// <summary>
/// A stream that first reads <paramref name="prefix"/>, bytes already taken off <paramref name="inner"/>, then
/// <paramref name="inner"/>'s own; writes go straight through. A detached connection's stream, reading first what its
/// connection had buffered (what a server sent right behind a 101 head, in the same segment); and a decompressor's
/// source, reading first the bytes sniffed to pick the format (<paramref name="leaveOpen"/>: the body stays its
/// owner's). Disposing it disposes <paramref name="inner"/> unless <paramref name="leaveOpen"/>.
/// </summary>
internal sealed class PrefixedDuplexStream(ReadOnlyMemory<byte> prefix, Stream inner, bool leaveOpen = false) : Stream
{
    private ReadOnlyMemory<byte> _prefix = prefix;

    private int Remaining => _prefix.Length;

    private int TakePrefix(Span<byte> buffer)
    {
        var n = Math.Min(_prefix.Length, buffer.Length);
        _prefix.Span[..n].CopyTo(buffer);
        _prefix = _prefix[n..];
        return n;
    }

    public override int Read(Span<byte> buffer) => Remaining > 0 ? TakePrefix(buffer) : inner.Read(buffer);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Remaining > 0 ? new ValueTask<int>(TakePrefix(buffer.Span)) : inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override bool CanRead => inner.CanRead;
    public override bool CanWrite => inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen) inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return leaveOpen ? ValueTask.CompletedTask : inner.DisposeAsync();
    }
}
