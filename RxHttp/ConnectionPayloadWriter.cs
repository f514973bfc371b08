using System.Runtime.CompilerServices;
using System.Buffers;
using RxHttp.Http1;

namespace RxHttp;

/// <summary>
/// Frames payload bytes onto the connection; the head goes out with the first write unless already sent.
/// Holds a payload to the length it announced: sending fewer or more bytes than Content-Length would
/// desynchronise the connection, so it fails the request with <see cref="ClientPayloadError"/> instead.
/// </summary>
internal sealed class ConnectionPayloadWriter(Connection connection, bool chunked, PooledBufferWriter head, long? declared,
    IObserver<TransferProgress>? progress, bool headSent, Action? onHeadSent, Action<int>? onChunkSent) : PayloadWriter
{
    private bool _headSent = headSent;
    private long _written;

    public override long BytesWritten => _written;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (data.IsEmpty) return;
        if (declared is { } max && _written + data.Length > max)
            throw new ClientPayloadError($"The request body is longer than its Content-Length ({max} bytes).");
        _written += data.Length;
        var headWasSent = _headSent;
        await WriteFramedAsync(data, cancellationToken).ConfigureAwait(false);
        if (!headWasSent) onHeadSent?.Invoke();
        onChunkSent?.Invoke(data.Length);
        progress?.OnNext(new TransferProgress(_written, declared));
    }

    private async ValueTask WriteFramedAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (!_headSent)
        {
            _headSent = true;
            if (chunked) HttpRequestWriter.WriteChunkHeader(head, data.Length);
            if (data.Length <= RequestFraming.SmallBody)
            {
                data.Span.CopyTo(head.GetSpan(data.Length));
                head.Advance(data.Length);
                if (chunked) head.Write(HttpRequestWriter.ChunkTrailer);
                await connection.WriteAsync(head.WrittenMemory, cancellationToken).ConfigureAwait(false);
                return;
            }
            await connection.WriteAsync(head.WrittenMemory, cancellationToken).ConfigureAwait(false);
            await connection.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            if (chunked) await connection.WriteAsync(ChunkCrlf, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (chunked)
        {
            head.Clear();
            HttpRequestWriter.WriteChunkHeader(head, data.Length);
            await connection.WriteAsync(head.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        await connection.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        if (chunked) await connection.WriteAsync(ChunkCrlf, cancellationToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        if (declared is { } expected && _written != expected)
            throw new ClientPayloadError($"The request body ended after {_written} of the {expected} bytes its Content-Length announced.");
        if (_written == 0) progress?.OnNext(new TransferProgress(0, declared));
        if (!_headSent)
        {
            _headSent = true;
            if (chunked) head.Write(HttpRequestWriter.LastChunk);
            await connection.WriteAsync(head.WrittenMemory, ct).ConfigureAwait(false);
            onHeadSent?.Invoke();
            return;
        }
        if (chunked) await connection.WriteAsync(LastChunkBytes, ct).ConfigureAwait(false);
    }

    private static readonly ReadOnlyMemory<byte> ChunkCrlf = "\r\n"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> LastChunkBytes = "0\r\n\r\n"u8.ToArray();
}
