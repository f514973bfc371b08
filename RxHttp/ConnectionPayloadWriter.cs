using System.Runtime.CompilerServices;
using System.Buffers;
using RxHttp.Http1;

namespace RxHttp;

/// <summary>
/// Frames payload bytes onto the connection; the head goes out with the first write unless already sent.
/// Holds a payload to the length it announced: sending fewer or more bytes than Content-Length would
/// desynchronise the connection, so it fails the request with <see cref="ClientPayloadError"/> instead.
/// Every <see cref="WatchEvery"/> bytes it looks for an answer the server sent before the body ended; a final one
/// that closes the connection (413 from nginx, say) cuts the body short (<see cref="Cut"/>), as RFC 9112 §9.5 asks;
/// not with <c>watch</c> off, when the exchange is already reading the head (a body sent once the 100 Continue wait ran out).
/// </summary>
internal sealed class ConnectionPayloadWriter(Connection connection, bool chunked, PooledBufferWriter head, long? declared,
    IObserver<TransferProgress>? progress, bool headSent, Action? onHeadSent, Action<int>? onChunkSent, bool watch = true, bool virtualClock = false) : PayloadWriter
{
    internal override bool OnVirtualClock => virtualClock;

    /// <summary>
    /// How many body bytes go out between two looks at the socket (one FIONREAD each): at 64 KiB the looks cost an
    /// upload about 2% (row 4), at 1 MiB nothing measurable, and the socket buffers hold more than that anyway.
    /// </summary>
    internal const int WatchEvery = 1 << 20;

    private bool _headSent = headSent;
    private long _written;
    private long _watchedAt;

    public override long BytesWritten => _written;

    /// <summary>The server answered and is closing: the rest of the body was not sent, and the connection cannot carry another request.</summary>
    public bool Cut { get; private set; }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (data.IsEmpty) return;
        if (Cut || watch && _headSent && _written - _watchedAt >= WatchEvery && ServerIsRefusing())
            throw new BodyCutShort();
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
            await WriteDataAsync(data, cancellationToken).ConfigureAwait(false);
            if (chunked) await connection.WriteAsync(ChunkCrlf, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (chunked)
        {
            head.Clear();
            HttpRequestWriter.WriteChunkHeader(head, data.Length);
            await connection.WriteAsync(head.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        await WriteDataAsync(data, cancellationToken).ConfigureAwait(false);
        if (chunked) await connection.WriteAsync(ChunkCrlf, cancellationToken).ConfigureAwait(false);
    }

    // A payload may hand over its whole body in one write (a 64 MiB byte array): watched, it goes in slices with a
    // look at the socket between them.
    private ValueTask WriteDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        watch && data.Length > SliceSize ? WriteSlicedAsync(data, cancellationToken) : connection.WriteAsync(data, cancellationToken);

    private const int SliceSize = WatchEvery;

    private async ValueTask WriteSlicedAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < data.Length; offset += SliceSize)
        {
            if (offset > 0 && ServerIsRefusing()) throw new BodyCutShort();
            await connection.WriteAsync(data.Slice(offset, Math.Min(SliceSize, data.Length - offset)), cancellationToken).ConfigureAwait(false);
        }
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

    // A final answer that closes the connection, among what the server has sent so far. Heads are parsed, never
    // consumed: the exchange reads them again. A 1xx (an unasked 100 Continue) or a final answer that keeps the
    // connection lets the body go on; a head the parser refuses stops it, since the connection is lost anyway.
    private bool ServerIsRefusing()
    {
        _watchedAt = _written;
        if (!connection.TryTakeAvailable(HttpParserLimits.Default.MaxHeadBuffer)) return false;
        var builder = connection.HeadBuilder;
        var offset = 0;
        try
        {
            while (true)
            {
                builder.Reset();
                var reader = new ResponseHeadReader(builder, HttpParserLimits.Default);
                if (!reader.TryParse(connection.Buffered[offset..])) return false;
                if (builder.Status >= 200 || builder.Status == 101)
                    return Cut = !HttpFraming.IsKeepAlive(builder.Major, builder.Minor, builder.Headers.Values("Connection"));
                offset += reader.Consumed;
            }
        }
        catch (HttpParseException)
        {
            return Cut = true;
        }
    }

    private static readonly ReadOnlyMemory<byte> ChunkCrlf = "\r\n"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> LastChunkBytes = "0\r\n\r\n"u8.ToArray();
}

/// <summary>Thrown out of a payload's writes once the server has answered and is closing (<see cref="ConnectionPayloadWriter.Cut"/>).</summary>
internal sealed class BodyCutShort() : Exception("The server answered before the request body was sent and is closing the connection.");
