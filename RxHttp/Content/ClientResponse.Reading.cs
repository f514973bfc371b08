using System.Runtime.CompilerServices;
using System.Text;

namespace RxHttp;

/// <summary>Reading the body: the one consumer claim, chunk and whole-body reads, and the stream over them.</summary>
public sealed partial class ClientResponse
{
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct)
    {
        if (_body is null)
        {
            CloseUpgraded();
            return 0;
        }
        try
        {
            var decoded = Decoded;
            if (decoded is null)
            {
                var read = await _body.ReadAsync(buffer, ct).ConfigureAwait(false);
                if (read > 0) TraceChunk(read);
                return read;
            }
            // Disposed at the end, or by a release before any read: a released body's failure is still reported, and
            // one released with all of it in memory is decoded afresh (before, it read as empty).
            if (_extras!.DecodedDisposed && (decoded = RedecodeReleased()) is null)
                return _body.Failed ? await _body.ReadAsync(buffer, ct).ConfigureAwait(false) : 0;
            var n = await decoded.ReadAsync(buffer, ct).ConfigureAwait(false);
            if (n > 0) TraceChunk(n);
            else if (!buffer.IsEmpty) DisposeDecoders(); // the end: ToBodyEnd has read the body to its end too
            return n;
        }
        // Only when the raw body read did not fail itself: its own errors pass through as they are.
        catch (Exception e) when (Decoded is not null && !_body.Failed && DecodeErrors.IsDecoderFailure(e))
        {
            StopReading();
            throw DecodeErrors.Translate(Headers.Get("Content-Encoding") ?? Headers.Get("Transfer-Encoding"), e);
        }
        catch
        {
            StopReading();
            throw;
        }
    }

    // A reader stopped before the end (it failed, was disposed, or broke out of its loop), from its own flow once its
    // last read returned or threw: no read is in flight on the decoders, so their native zlib/brotli/zstd state and
    // pooled buffers are freed now, as at the body's end, instead of by their finalizers some GC later.
    private void StopReading()
    {
        Abort();
        DisposeDecoders();
    }

    // A body released unread whose bytes are all in memory is still read whole, as an identity one is (aiohttp reads
    // a payload that had arrived after release() too): its decoders start afresh on what was kept. Null: none to make.
    private Stream? RedecodeReleased()
    {
        if (_extras is not { DecodersReleased: true } extras || _body is not { Failed: false, AtEnd: false } body) return null;
        extras.DecodersReleased = false;
        extras.DecodedDisposed = false;
        return extras.Decoded = Decoders(body, extras.TransferCodings, extras.ContentCodings);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<byte[]?> ReadChunkAsync(int size, CancellationToken ct)
    {
        if (_body is null)
        {
            CloseUpgraded();
            return null;
        }
        if (Decoded is null)
        {
            try
            {
                var chunk = await _body.ReadChunkAsync(size, ct).ConfigureAwait(false);
                if (chunk is not null) TraceChunk(chunk.Length);
                return chunk;
            }
            catch
            {
                Abort();
                throw;
            }
        }
        var buffer = new byte[Math.Min(size, 16 * 1024)];
        var n = await ReadAsync(buffer, ct).ConfigureAwait(false);
        return n == 0 ? null : n == buffer.Length ? buffer : buffer.AsSpan(0, n).ToArray();
    }

    private async ValueTask<byte[]> ReadAllAsync(CancellationToken ct)
    {
        if (CachedBody is { } c) return c;
        BeginConsume();
        try
        {
            byte[] result;
            // A body that ended by failing (released unread, its connection closed) is no empty body: the reads below
            // fail as Content's do, instead of Read() and Text() handing out nothing as if it had ended.
            if (_body is null || _body.AtEnd && !_body.Failed)
            {
                if (_body is null) CloseUpgraded();
                result = Array.Empty<byte>();
            }
            else if (Decoded is null && _body.TakeWhole() is { } whole)
            {
                // A small body taken off the connection with its head: handed over as it is.
                BodySizeLimit.CheckAnnounced(MaxBodySize, whole.Length);
                if (whole.Length > 0) TraceChunk(whole.Length);
                result = whole;
            }
            else if (Decoded is null && _body.RemainingLength is { } len and <= int.MaxValue)
            {
                BodySizeLimit.CheckAnnounced(MaxBodySize, len);
                // One array of exactly the body's length, read into straight from the socket past what came with the
                // head; uninitialized, since every byte is overwritten.
                result = GC.AllocateUninitializedArray<byte>((int)len);
                var got = 0;
                while (got < len)
                {
                    var n = await _body.ReadAsync(result.AsMemory(got), ct).ConfigureAwait(false);
                    if (n == 0) break;
                    TraceChunk(n);
                    got += n;
                }
                if (got < len) throw new ClientPayloadError("Response payload is not completed.");
                // The body reports its end on the next read; make it so the connection is freed now.
                if (!_body.IsDone) await _body.ReadAsync(new byte[1], ct).ConfigureAwait(false);
            }
            else
            {
                var limit = MaxBodySize;
                if (Decoded is null && _body.RemainingLength is { } announced) BodySizeLimit.CheckAnnounced(limit, announced);
                // Inflated bytes are read at most 16 KiB at a time and counted: a bomb stops at the limit, not at its end.
                result = await BodyBuffer.ReadToEndAsync(ReadAsync, limit, Decoded is null ? int.MaxValue : 16 * 1024, ct).ConfigureAwait(false);
            }
            _cached = result;
            return result;
        }
        catch
        {
            StopReading();
            throw;
        }
    }

    /// <summary>
    /// The body a whole read kept, for the readers that replay it: Read()'s bytes, or the string of a large UTF-8
    /// Text() (which keeps no array) encoded back into them when a later reader asks; valid UTF-8 re-encodes to the
    /// same bytes. Null before any whole read.
    /// </summary>
    private byte[]? CachedBody => _cached ?? (_extras?.CachedText is { } text ? _cached = Encoding.UTF8.GetBytes(text) : null);

    private void BeginConsume()
    {
        if (Interlocked.Exchange(ref _consuming, 1) != 0)
        {
            if (_cached is null) throw new InvalidOperationException("The response body can be read only once (use Read() to cache it).");
            return;
        }
        _body?.Claim();
    }

    private sealed class ResponseReadStream(ClientResponse response) : ReadOnlyStreamBase
    {
        private volatile bool _disposed;

        public override bool CanRead => !_disposed;
        public override long Length => response.ContentLength ?? throw new NotSupportedException();

        // Disposed, the stream is done with whatever the body still holds: without this check a read after Dispose
        // handed out a body that had come with its head, returned 0 after a complete one, and failed with
        // ClientPayloadError otherwise, where Stream's contract (and HttpClient's content stream) says ObjectDisposedException.
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return response.ReadAsync(buffer, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _disposed = true;
                response.Release();
            }
            base.Dispose(disposing);
        }
    }
}
