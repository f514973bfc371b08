using System.Runtime.CompilerServices;
using RxHttp.Http1;

namespace RxHttp;

/// <summary>
/// Reads one response body off its connection by the framing chosen once from the head (none, length,
/// chunked, until close), then returns or closes the connection at the end. Not thread-safe: one reader.
/// </summary>
internal sealed class ResponseBody
{
    private readonly Connection _connection;
    private readonly BodyFraming _framing;
    private readonly ReadTimer? _timer;
    private readonly bool _keepAlive;
    private long _remaining;
    private ChunkedDecoder? _chunked;
    private int _pending; // body bytes of the current chunk already at the buffer's start
    private byte _state; // 0 reading, 1 done, 2 failed/closed (a byte: with the framing and keep-alive flag it packs into one word)

    // Reads at least this large go straight from the socket into the reader's memory (one copy); smaller ones fill
    // the connection buffer first, so a reader taking a few bytes at a time costs one syscall per buffer, not per read.
    internal const int DirectReadMin = 16 * 1024;

    public ResponseBody(Connection connection, BodyFraming framing, long contentLength, ReadTimer? timer, HttpParserLimits limits, bool keepAlive)
    {
        _connection = connection;
        _framing = framing;
        _remaining = contentLength;
        _timer = timer;
        _keepAlive = keepAlive;
        if (framing == BodyFraming.Chunked) _chunked = new ChunkedDecoder(limits);
        if (framing == BodyFraming.None || framing == BodyFraming.ContentLength && contentLength == 0) Finish();
    }

    public bool IsDone => Volatile.Read(ref _state) != 0;

    /// <summary>True once a read failed or the body was released unread (as opposed to ended).</summary>
    public bool Failed => Volatile.Read(ref _state) == 2;

    /// <summary>The connection the body is read from.</summary>
    public Connection Connection => _connection;

    /// <summary>The response this body belongs to (set by it), told when the body ends; a field rather than a callback closure.</summary>
    public ClientResponse? Owner { get; set; }

    // The connection goes back to the pool only after a complete body on a keep-alive connection.
    private void OnEnd(bool complete) => ClientResponse.OnBodyEnd(Owner, _connection, complete, _keepAlive);

    /// <summary>Bytes still to come when the length is known (Content-Length framing), else null.</summary>
    public long? RemainingLength => _framing == BodyFraming.ContentLength ? _remaining : null;
    public long BytesRead { get; private set; }

    /// <summary>Content-Length body bytes that went through the connection buffer rather than straight into the reader's memory (tests).</summary>
    internal long BytesViaBuffer { get; private set; }


    /// <summary>Copies body bytes into <paramref name="destination"/>; 0 at the end of the body.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (destination.IsEmpty) return 0;
        if (_state == 1) return 0;
        if (_state == 2) throw _connection.AbortReason is ClientError ce ? ce : new ClientPayloadError("The response was released before its body was read.");
        try
        {
            var n = _framing switch
            {
                BodyFraming.ContentLength => await ReadLengthAsync(destination, ct).ConfigureAwait(false),
                BodyFraming.Chunked => await ReadChunkedAsync(destination, ct).ConfigureAwait(false),
                _ => await ReadUntilCloseAsync(destination, ct).ConfigureAwait(false),
            };
            return n;
        }
        catch (Exception e)
        {
            Fail();
            if (e is OperationCanceledException) throw;
            if (_connection.AbortReason is ClientError reason) throw reason;
            if (e is HttpParseException pe) throw new ClientPayloadError("Response payload is not completed: " + pe.Message, pe);
            if (e is ServerDisconnectedError sd) throw new ClientPayloadError("Response payload is not completed: " + sd.Message, sd);
            throw;
        }
    }

    /// <summary>The next bytes of the body as a fresh array (safe to keep); null at the end.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<byte[]?> ReadChunkAsync(int max, CancellationToken ct)
    {
        // Size the array to what is already buffered when there is some, so small bodies cost one exact copy.
        var avail = _framing == BodyFraming.Chunked ? _pending : _connection.BufferedCount;
        var size = avail > 0 ? Math.Min(avail, max) : max;
        if (_framing == BodyFraming.ContentLength) size = (int)Math.Min(size, Math.Max(_remaining, 1));
        else if (avail == 0 && _chunked is { DataRemaining: > 0 and var left } && _connection.BufferedCount == 0) size = (int)Math.Min(size, left);
        // Uninitialized: every byte handed out is overwritten by the read, so zeroing 64 KiB per chunk is waste.
        var buffer = GC.AllocateUninitializedArray<byte>(size);
        var n = await ReadAsync(buffer, ct).ConfigureAwait(false);
        if (n == 0) return null;
        if (n == buffer.Length) return buffer;
        var exact = GC.AllocateUninitializedArray<byte>(n);
        buffer.AsSpan(0, n).CopyTo(exact);
        return exact;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadLengthAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_remaining == 0) return Finish();
        int n;
        if (_connection.BufferedCount == 0 && destination.Length < DirectReadMin && await _connection.FillAsync(_timer, ct).ConfigureAwait(false) == 0)
            throw MissingLength();
        if (_connection.BufferedCount > 0)
        {
            n = (int)Math.Min(Math.Min(_connection.BufferedCount, destination.Length), _remaining);
            _connection.Buffered[..n].CopyTo(destination.Span);
            _connection.Consume(n);
            BytesViaBuffer += n;
        }
        else
        {
            var max = (int)Math.Min(destination.Length, _remaining);
            n = await _connection.ReadRawAsync(destination[..max], _timer, ct).ConfigureAwait(false);
            if (n == 0) throw MissingLength();
        }
        _remaining -= n;
        Count(n);
        if (_remaining == 0) Finish();
        return n;
    }

    private ClientPayloadError MissingLength() =>
        new($"Response payload is not completed: not enough data to satisfy Content-Length ({_remaining} bytes missing).");

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadChunkedAsync(Memory<byte> destination, CancellationToken ct)
    {
        while (true)
        {
            if (_pending > 0)
            {
                var n = Math.Min(_pending, destination.Length);
                _connection.Buffered[..n].CopyTo(destination.Span);
                _connection.Consume(n);
                _pending -= n;
                Count(n);
                return n;
            }
            var status = _chunked!.Decode(_connection.Buffered, out var consumed, out var dataOffset, out var dataLength);
            if (status == ChunkedStatus.Data)
            {
                _connection.Consume(dataOffset);
                _pending = dataLength;
                continue;
            }
            _connection.Consume(consumed);
            if (status == ChunkedStatus.Done)
            {
                Finish();
                return 0;
            }
            // Inside a chunk with nothing buffered: its data goes straight from the socket into the destination, one
            // copy instead of two and reads as large as the destination rather than the connection buffer.
            if (_chunked.DataRemaining > 0 && _connection.BufferedCount == 0 && destination.Length >= DirectReadMin)
            {
                var max = (int)Math.Min(destination.Length, _chunked.DataRemaining);
                var direct = await _connection.ReadRawAsync(destination[..max], _timer, ct).ConfigureAwait(false);
                if (direct == 0) throw new ClientPayloadError("Response payload is not completed: the connection closed inside a chunked body.");
                _chunked.SkipData(direct);
                Count(direct);
                return direct;
            }
            var read = await _connection.FillAsync(_timer, ct).ConfigureAwait(false);
            if (read == 0) throw new ClientPayloadError("Response payload is not completed: the connection closed inside a chunked body.");
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadUntilCloseAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_connection.BufferedCount == 0 && destination.Length < DirectReadMin && await _connection.FillAsync(_timer, ct).ConfigureAwait(false) == 0)
            return Finish();
        if (_connection.BufferedCount > 0)
        {
            var n = Math.Min(_connection.BufferedCount, destination.Length);
            _connection.Buffered[..n].CopyTo(destination.Span);
            _connection.Consume(n);
            Count(n);
            return n;
        }
        var read = await _connection.ReadRawAsync(destination, _timer, ct).ConfigureAwait(false);
        if (read == 0) Finish();
        else Count(read);
        return read;
    }

    // Counted before Finish so the last progress value precedes the end of the body.
    private void Count(int n)
    {
        BytesRead += n;
        Owner?.OnBytesRead(BytesRead);
    }

    private int Finish()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0) OnEnd(true);
        return 0;
    }

    /// <summary>Stops reading: the connection is closed unless the body already ended.</summary>
    public void Fail()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) == 0) OnEnd(false);
    }

    /// <summary>Drains what is already buffered so a fully received body still frees its connection for reuse.</summary>
    public bool TryDrainBuffered()
    {
        if (_state != 0) return _state == 1;
        if (_framing == BodyFraming.ContentLength && _connection.BufferedCount >= _remaining)
        {
            _connection.Consume((int)_remaining);
            _remaining = 0;
            Finish();
            return true;
        }
        return false;
    }
}

/// <summary>The raw body as a <see cref="Stream"/>, so decompressors from System.IO.Compression can sit on top.</summary>
internal sealed class ResponseBodyStream(ResponseBody body) : ReadOnlyStreamBase
{
    public override long Position { get => body.BytesRead; set => throw new NotSupportedException(); }
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => body.ReadAsync(buffer, cancellationToken);
}
