namespace RxHttp;

/// <summary>
/// The shared shape of the library's read-only, forward-only streams (a response body, a decompressor's source):
/// everything but reading is unsupported, and the synchronous and array-based reads funnel into the one
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> a subclass implements.
/// </summary>
internal abstract class ReadOnlyStreamBase : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    // Sync over async: the data arrives on a socket, so a synchronous reader (a Stream API that has no async
    // variant, such as a decompressor's sync path) must block; nothing in the library reads this way itself.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
