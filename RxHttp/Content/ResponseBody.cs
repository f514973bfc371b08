using System.Runtime.CompilerServices;
using RxHttp.Http1;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// Reads one response body off its connection by the framing chosen once from the head (none, length,
/// chunked, until close), and owns that connection: at the end of the body it returns it to the pool (or closes
/// it), stops the request's Total timer and completes the download progress itself; nothing calls back up into
/// the response. Not thread-safe: one reader, or the one drain that keeps an unread body (<see cref="KeepUnread"/>)
/// until a late reader takes over. Reading by framing is in ResponseBody.Wire.cs, keeping an unread body in
/// ResponseBody.Unread.cs.
/// </summary>
internal sealed partial class ResponseBody
{
    private readonly Connection _connection;
    private readonly BodyFraming _framing;
    private readonly ReadTimer? _timer;
    private readonly bool _keepAlive;
    private long _remaining;
    private ChunkedDecoder? _chunked;
    private int _pending; // body bytes of the current chunk already at the buffer's start
    private byte _state; // 0 reading, 1 done, 2 failed/closed, 3 aborting (AbortWith) (a byte: with the framing and keep-alive flag it packs into one word)
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
        // The reader reports progress, but whoever ends the body (Release or Dispose on the caller's thread, the Total
        // timer) completes it: unserialised, OnCompleted ran while the reader was still inside OnNext, and an OnNext
        // could follow it. Queued rather than locked, so a Release from inside a progress observer cannot deadlock.
        public readonly IObserver<TransferProgress> Observer = System.Reactive.Observer.Synchronize(observer, preventReentrancy: true);
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
    public bool Failed => Volatile.Read(ref _state) >= 2;

    // _state while AbortWith closes the connection under the reader: done with, and failing.
    private const byte Aborting = 3;
    /// <summary>True when nothing is left to read: the connection is done with and no kept bytes remain.</summary>
    public bool AtEnd => IsDone && _drain is null && (_kept is null || _keptStart == _keptEnd) && !HasReady;

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
    public long? RemainingLength => _framing == BodyFraming.ContentLength ? _remaining + (_keptEnd - _keptStart) + ReadyBytes : null;

    /// <summary>Body bytes taken off the wire so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Content-Length body bytes that went through the connection buffer rather than straight into the reader's memory (tests).</summary>
    internal long BytesViaBuffer { get; private set; }

    /// <summary>Stops reading from outside (the Total timer): the read in flight fails with <paramref name="reason"/>.</summary>
    public void AbortWith(Exception reason)
    {
        // The end is claimed first, as Finish and Fail claim it: checked and then closed, a body that ended in between
        // (on the reader's thread) had already given its connection back, and another request's lease of it would be
        // closed with this one's reason. Claimed as aborting, not yet failed: a read meanwhile goes to the connection,
        // which fails it with the reason once recorded, where a failed body's read before that found no reason to give.
        if (Interlocked.CompareExchange(ref _state, Aborting, 0) != 0) return;
        _connection.Abort(reason);
        Volatile.Write(ref _state, 2);
        End(complete: false);
    }

    /// <summary>Copies body bytes into <paramref name="destination"/>; 0 at the end of the body.</summary>
    public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (destination.IsEmpty) return new ValueTask<int>(0);
        return _kept is null && _drain is null ? ReadWireAsync(destination, ct) : ReadKeptAsync(destination, ct);
    }

    /// <summary>The next bytes of the body as a fresh array (safe to keep); null at the end.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<byte[]?> ReadChunkAsync(int max, CancellationToken ct)
    {
        if (HasReady) return TakeReady();
        if (CanScatter(max)) return await ReadScatterAsync(max, ct).ConfigureAwait(false);
        // The body's tail (or a body that never scattered) goes through one read: arrays kept for scatter reads are
        // not needed again and would otherwise live as long as the response.
        DropScatterArrays();
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

    /// <summary>
    /// Takes what is already buffered off the connection so a fully received body still frees its connection for
    /// reuse; the bytes are kept for a reader.
    /// </summary>
    public bool TryDrainBuffered()
    {
        if (_state != 0) return _state == 1;
        if (Volatile.Read(ref _claim) == 2) return false;
        if (_framing == BodyFraming.ContentLength && _connection.BufferedCount >= _remaining)
        {
            // Kept, not dropped: a reader part-way through the body (a stream, Lines, IterChunked) still gets the rest.
            // Dropped, its next read found the body ended and it ended early as if complete, with no error, where a
            // body not yet in the buffer fails that read with ClientPayloadError.
            var n = (int)_remaining;
            if (n > 0)
            {
                _kept = _connection.Buffered[..n].ToArray();
                _keptStart = 0;
                _keptEnd = n;
                _connection.Consume(n);
                _remaining = 0;
                Count(n);
            }
            Finish();
            return true;
        }
        return false;
    }
}
