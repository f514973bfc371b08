using System.Runtime.CompilerServices;
using RxHttp.Http1;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// Reads one response body off its connection by the framing chosen once from the head (none, length,
/// chunked, until close), and owns that connection: at the end of the body it returns it to the pool (or closes
/// it), stops the request's Total timer and completes the download progress itself; nothing calls back up into
/// the response. Not thread-safe: one reader, or the one drain that keeps an unread body (<see cref="KeepUnread"/>)
/// until a late reader takes over.
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
    private byte _claim; // 0 nobody, 1 a reader, 2 the drain of an unread body (KeepUnread)

    // Body bytes already taken off the connection (a small body that came with its head, or what the drain of an
    // unread body kept), served before anything still on the wire.
    private byte[]? _kept;
    private int _keptStart, _keptEnd;
    private Drain? _drain;

    private TimerWheel.Timer? _endTimer;
    private ProgressSink? _progress;

    private sealed class ProgressSink(IObserver<TransferProgress> observer, long? total)
    {
        public readonly IObserver<TransferProgress> Observer = observer;
        public readonly long? Total = total;
    }

    // Reads at least this large go straight from the socket into the reader's memory (one copy); smaller ones fill
    // the connection buffer first, so a reader taking a few bytes at a time costs one syscall per buffer, not per read.
    internal const int DirectReadMin = 16 * 1024;

    /// <summary>
    /// A Content-Length body up to this size that is already in the read buffer with its head is taken off the
    /// connection at once, so the connection goes back to the pool before the response is delivered and an
    /// unread response holds nothing (the sequential-GET case: one exact copy, which Read() then hands out as is).
    /// </summary>
    internal const int TakeWithHeadMax = 64 * 1024;

    /// <summary>
    /// Most bytes of an unread body kept in memory once the subscription that delivered the response has ended
    /// (SocketsHttpHandler drains up to the same 1 MiB); the rest of a longer body waits on its connection.
    /// </summary>
    internal const int UnreadKeepMax = 1024 * 1024;

    public ResponseBody(Connection connection, BodyFraming framing, long contentLength, ReadTimer? timer, HttpParserLimits limits, bool keepAlive, long takeWithHeadMax = TakeWithHeadMax)
    {
        _connection = connection;
        _framing = framing;
        _remaining = contentLength;
        _timer = timer;
        _keepAlive = keepAlive;
        if (framing == BodyFraming.Chunked) _chunked = new ChunkedDecoder(limits);
        if (framing == BodyFraming.None || framing == BodyFraming.ContentLength && contentLength == 0) Finish();
        else if (framing == BodyFraming.ContentLength && contentLength <= takeWithHeadMax && connection.BufferedCount >= contentLength)
        {
            var n = (int)contentLength;
            _kept = connection.Buffered[..n].ToArray();
            _keptEnd = n;
            connection.Consume(n);
            _remaining = 0;
            BytesRead = n;
            Finish();
        }
    }

    /// <summary>True once the connection is done with (returned or closed); kept bytes may still be left to read.</summary>
    public bool IsDone => Volatile.Read(ref _state) != 0;

    /// <summary>True once a read failed or the body was released unread (as opposed to ended).</summary>
    public bool Failed => Volatile.Read(ref _state) == 2;
    /// <summary>True when nothing is left to read: the connection is done with and no kept bytes remain.</summary>
    public bool AtEnd => IsDone && _drain is null && (_kept is null || _keptStart == _keptEnd);

    /// <summary>The connection the body is read from.</summary>
    public Connection Connection => _connection;

    /// <summary>The request's Total timer: stopped when the body ends (or at once if it already has).</summary>
    public void StopAtEnd(TimerWheel.Timer timer)
    {
        _endTimer = timer;
        if (IsDone) Interlocked.Exchange(ref _endTimer, null)?.Cancel();
    }

    /// <summary>Where DownloadProgress goes; completed when the body ends (or at once if it already has).</summary>
    public void ReportProgress(IObserver<TransferProgress> progress, long? total)
    {
        Volatile.Write(ref _progress, new ProgressSink(progress, total));
        if (IsDone) progress.OnCompleted();
    }

    /// <summary>Bytes still to come when the length is known (Content-Length framing), else null.</summary>
    public long? RemainingLength => _framing == BodyFraming.ContentLength ? _remaining + (_keptEnd - _keptStart) : null;

    /// <summary>Body bytes taken off the wire so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Content-Length body bytes that went through the connection buffer rather than straight into the reader's memory (tests).</summary>
    internal long BytesViaBuffer { get; private set; }

    /// <summary>
    /// The whole body as one array when all of it was kept and none of it was read yet (a small body that came with
    /// its head): handed over as is, so Read() costs no second copy. Null otherwise.
    /// </summary>
    public byte[]? TakeWhole()
    {
        if (_kept is not { } kept || _keptStart != 0 || _keptEnd != kept.Length || _drain is not null || Volatile.Read(ref _state) != 1) return null;
        _keptStart = _keptEnd;
        return kept;
    }

    /// <summary>A reader starts: it takes over from the drain of an unread body if one runs.</summary>
    public void Claim()
    {
        if (Interlocked.CompareExchange(ref _claim, 1, 0) != 2) return;
        // The drain publishes itself once its synchronous start returned: a short wait on a rare path.
        var spin = new SpinWait();
        Drain? drain;
        while ((drain = Volatile.Read(ref _drain)) is null) spin.SpinOnce();
        lock (drain) drain.Claimed = true;
    }

    /// <summary>
    /// Nobody took the body by the end of the subscription that delivered the response: read it into memory, up to
    /// <see cref="UnreadKeepMax"/> bytes (and no further than <paramref name="maxBody"/>, when set), so the
    /// connection goes back to the pool and a later read still works. A longer body is kept only that far and the rest
    /// waits on the connection for a reader (or the response's guard). A reader that claims the body meanwhile takes
    /// over from what was kept so far, without losing a byte.
    /// </summary>
    public void KeepUnread(long maxBody)
    {
        if (IsDone || Interlocked.CompareExchange(ref _claim, 2, 0) != 0) return;
        var drain = new Drain();
        drain.Task = DrainAsync(drain, maxBody > 0 && maxBody < UnreadKeepMax ? (int)maxBody : UnreadKeepMax);
        Volatile.Write(ref _drain, drain);
    }

    /// <summary>True while an unread body is being kept (its connection is not yet returned or closed).</summary>
    public bool IsDraining => _drain is { Task.IsCompleted: false };

    // The drain and a reader that claims the body meanwhile share the kept bytes under this object's lock: the drain's
    // read in flight fills the array past _keptEnd while the reader takes what is before it, so a late reader gets the
    // bytes already kept at once instead of waiting for more to arrive.
    private sealed class Drain
    {
        public Task? Task;
        public bool Claimed; // under the lock
        public Exception? Error;
    }

    // Never faults: a failure is kept for the reader that takes over, so nothing goes unobserved.
    private async Task DrainAsync(Drain drain, int max)
    {
        try
        {
            // Longer than what is kept: left on the connection whole (nothing to copy for a large download).
            if (_framing == BodyFraming.ContentLength && _remaining > max) return;
            var size = _framing == BodyFraming.ContentLength ? (int)_remaining : Math.Min(max, Math.Max(_connection.BufferedCount, 4096));
            lock (drain)
            {
                _kept = GC.AllocateUninitializedArray<byte>(Math.Max(size, 1));
                _keptStart = _keptEnd = 0;
            }
            while (true)
            {
                Memory<byte> free;
                lock (drain)
                {
                    if (drain.Claimed || Volatile.Read(ref _state) != 0) return;
                    if (_keptEnd == _kept!.Length)
                    {
                        if (_kept.Length >= max) return; // the bound: the rest waits on the connection
                        // Grown in place: a claim stops the drain before a reader takes any byte it might move.
                        Array.Resize(ref _kept, Math.Min(max, _kept.Length * 2));
                    }
                    free = _kept.AsMemory(_keptEnd);
                }
                var n = await ReadWireAsync(free, CancellationToken.None).ConfigureAwait(false);
                lock (drain)
                {
                    if (n == 0) return;
                    _keptEnd += n;
                }
            }
        }
        catch (Exception e)
        {
            lock (drain) drain.Error = e;
        }
    }

    /// <summary>Stops reading from outside (the Total timer): the read in flight fails with <paramref name="reason"/>.</summary>
    public void AbortWith(Exception reason)
    {
        if (IsDone) return;
        _connection.Abort(reason);
        Fail();
    }

    /// <summary>Copies body bytes into <paramref name="destination"/>; 0 at the end of the body.</summary>
    public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (destination.IsEmpty) return new ValueTask<int>(0);
        return _kept is null && _drain is null ? ReadWireAsync(destination, ct) : ReadKeptAsync(destination, ct);
    }

    // What was taken off the wire first (after the drain, if one ran, stopped), then the rest of the body.
    private async ValueTask<int> ReadKeptAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_drain is { } drain)
        {
            lock (drain)
            {
                drain.Claimed = true;
                if (drain.Error is null && _kept is { } early && _keptStart < _keptEnd)
                {
                    // What the drain kept so far, while its read in flight fills the array further on.
                    var k = Math.Min(destination.Length, _keptEnd - _keptStart);
                    early.AsSpan(_keptStart, k).CopyTo(destination.Span);
                    _keptStart += k;
                    return k;
                }
            }
            await drain.Task!.WaitAsync(ct).ConfigureAwait(false);
            if (drain.Error is { } error)
            {
                // Kept (the drain stays): every later read fails with it too.
                Fail();
                throw error;
            }
            _drain = null;
        }
        if (_kept is { } kept)
        {
            if (_keptStart < _keptEnd)
            {
                var n = Math.Min(destination.Length, _keptEnd - _keptStart);
                kept.AsSpan(_keptStart, n).CopyTo(destination.Span);
                _keptStart += n;
                return n;
            }
            _kept = null;
        }
        return await ReadWireAsync(destination, ct).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadWireAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_state == 1) return 0;
        if (_state == 2)
            throw _connection.AbortReason is ClientError ce ? ce : new ClientPayloadError("The response was released before its body was read.");
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
        var avail = _kept is not null && _drain is null ? _keptEnd - _keptStart : _framing == BodyFraming.Chunked ? _pending : _connection.BufferedCount;
        var size = avail > 0 ? Math.Min(avail, max) : max;
        if (_framing == BodyFraming.ContentLength) size = (int)Math.Min(size, Math.Max(RemainingLength!.Value, 1));
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
        if (Volatile.Read(ref _progress) is { } progress) progress.Observer.OnNext(new TransferProgress(BytesRead, progress.Total));
    }

    private int Finish()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0) End(true);
        return 0;
    }

    /// <summary>Stops reading: the connection is closed unless the body already ended.</summary>
    public void Fail()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) == 0) End(false);
    }

    // The connection goes back to the pool only after a complete body on a keep-alive connection; the body's own
    // reader closed it otherwise, so its read buffer can go back to the array pool (owned).
    private void End(bool complete)
    {
        if (complete && _keepAlive) _connection.Release();
        else _connection.Close(owned: complete);
        Interlocked.Exchange(ref _endTimer, null)?.Cancel();
        Volatile.Read(ref _progress)?.Observer.OnCompleted();
    }

    /// <summary>Drains what is already buffered so a fully received body still frees its connection for reuse.</summary>
    public bool TryDrainBuffered()
    {
        if (_state != 0) return _state == 1;
        if (Volatile.Read(ref _claim) == 2) return false;
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
