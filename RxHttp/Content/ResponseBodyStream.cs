namespace RxHttp;

/// <summary>The raw body as a <see cref="Stream"/>, so decompressors from System.IO.Compression can sit on top.</summary>
internal sealed class ResponseBodyStream(ResponseBody body) : ReadOnlyStreamBase
{
    public override long Position { get => body.BytesRead; set => throw new NotSupportedException(); }
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => body.ReadAsync(buffer, cancellationToken);
}
