using System.Runtime.CompilerServices;
using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Reactive.Concurrency;
using RxHttp.Http1;

namespace RxHttp;

/// <summary>
/// A lease on one open connection, handed out by a connector. Release it to return it to the pool, close it
/// to drop it, or detach it to take the stream out of the pool's accounting (websocket upgrades, tunnels).
/// </summary>
public sealed class Connection : IDisposable
{
    // SocketsHttpHandler starts its read buffer at 10 bytes under DEBUG so that its tests run every growth and every
    // head, chunk and frame split across reads. ArrayPool's smallest array is 16 bytes. A Release build's tests set
    // this for a fixture (TinyReadBufferTests) to run the same paths.
#if DEBUG
    internal static int InitialBufferSize = 16;
#else
    internal static int InitialBufferSize = 16 * 1024;
#endif

    private readonly BaseConnector? _owner;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private int _state; // 0 leased, 1 released, 2 closed, 3 detached
    private Exception? _abortReason;

    internal Connection(BaseConnector? owner, ConnectionKey key, Socket? socket, Stream stream)
    {
        _owner = owner;
        Key = key;
        Socket = socket;
        Stream = stream;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        if (owner is not null) _metrics = ConnectionMetrics.Open(key, socket);
    }

    private readonly ConnectionMetrics? _metrics; // null unless a listener was on when it opened

    /// <summary>What this connection is for.</summary>
    public ConnectionKey Key { get; }

    /// <summary>True once the connection is closed (by either side, by the pool or by an error).</summary>
    public bool Closed => Volatile.Read(ref _state) == 2;

    /// <summary>How many requests this connection has carried.</summary>
    public int RequestCount { get; internal set; }

    internal Socket? Socket { get; }
    internal Stream Stream { get; }
    internal Http1.PooledBufferWriter Writer { get; } = new();

    /// <summary>Header strings of the last response on this connection, reused when the next one repeats them.</summary>
    internal HeaderStringCache HeaderStrings => _headerStrings ??= new HeaderStringCache();
    private HeaderStringCache? _headerStrings;

    /// <summary>The head parser's sink, reused by each exchange on this connection (one at a time).</summary>
    internal ResponseHeadBuilder HeadBuilder => _headBuilder ??= new ResponseHeadBuilder(HeaderStrings);
    private ResponseHeadBuilder? _headBuilder;
    internal bool KeepAlive { get; set; } = true;
    internal TimeSpan? ServerKeepAlive { get; set; }
    internal IDisposable? IdleTimer { get; set; }
    internal Transport.TimerWheel.Timer? IdleExpiry { get; set; } // the pool's reusable keep-alive timer for this connection
    internal BaseConnector.HostPool? Bucket; // the owner's accounting for this connection's key, set when it is first leased

    /// <summary>True when the connection came from the idle list rather than being freshly opened.</summary>
    internal bool IsReused => RequestCount > 0;

    // Set once the current exchange read any response byte: a keep-alive connection that failed before that may
    // simply have been closed by the server while idle, and the request can be retried on a fresh one.
    internal bool ResponseStarted;

    /// <summary>Returns the connection to its pool for reuse, or closes it when it cannot be reused.</summary>
    public void Release()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) return;
        _metrics?.Released();
        if (_owner is null) CloseCore();
        else _owner.OnRelease(this);
    }

    /// <summary>Closes the socket; the pool slot is freed.</summary>
    public void Close() => Close(owned: false);

    // owned: the caller is the lease's own reader, done reading, so the read buffer can go back to the array pool.
    // Anyone else (a session closing, a timer, a Release from the user's thread) may close a leased connection while
    // its reader is between a read and the parse of what it read: the buffer then stays with the connection, left to
    // the GC, so that reader neither meets an emptied buffer (an ArgumentOutOfRangeException instead of the close's
    // ClientError) nor parses bytes of a buffer another connection rented meanwhile.
    internal void Close(bool owned)
    {
        var previous = Interlocked.Exchange(ref _state, 2);
        if (previous == 2) return;
        CloseCore(keepBuffer: previous == 0 && !owned);
        if (previous == 0) _owner?.OnLeaseEnded(this);
        else if (previous == 1) _owner?.OnIdleClosed(this);
    }

    /// <summary>
    /// Takes the stream out of the pool: the pool no longer counts it and will never reuse or close it.
    /// The caller owns the returned stream (and any bytes already buffered, see <see cref="TakeBuffered"/>).
    /// </summary>
    public Stream Detach()
    {
        if (Interlocked.CompareExchange(ref _state, 3, 0) != 0) throw new InvalidOperationException("Only a leased connection can be detached.");
        // A detached stream (a websocket) delivers to its own observers for its whole life: never on the I/O thread.
        if (_inline && Socket is { } socket) Transport.InlineCompletions.TrySet(socket, _inline = false);
        _metrics?.Ended();
        _owner?.OnLeaseEnded(this);
        return Stream;
    }

    /// <summary>Same as <see cref="Release"/>.</summary>
    public void Dispose() => Release();

    // Re-arms a released connection when the pool hands it out again.
    internal bool TryReacquire()
    {
        if (Interlocked.CompareExchange(ref _state, 0, 1) != 1) return false;
        _metrics?.Leased();
        return true;
    }

    internal void CloseCore(bool keepBuffer = false)
    {
        Volatile.Write(ref _state, 2);
        _metrics?.Ended();
        IdleTimer?.Dispose();
        try { Socket?.Shutdown(SocketShutdown.Both); } catch { /* already gone */ }
        try { Stream.Dispose(); } catch { /* SslStream may throw on a dead socket */ }
        Socket?.Dispose();
        Writer.Dispose();
        if (keepBuffer) return;
        var b = Interlocked.Exchange(ref _buffer, Array.Empty<byte>());
        // The buffer may still be referenced by a read in flight on another thread; returning it to the pool
        // then would let two owners share it, so it is left to the GC once closed by an abort.
        if (b.Length > 0 && _abortReason is null && !_readAheadInFlight && !_polling) ArrayPool<byte>.Shared.Return(b);
    }

    // Drops a stale connection the pool holds the slot of: closes it once, even if Close() races with it.
    internal void Discard()
    {
        if (Interlocked.Exchange(ref _state, 2) != 2) CloseCore();
    }

    /// <summary>Closes the connection because of <paramref name="reason"/>; reads in flight fail with it.</summary>
    internal void Abort(Exception reason)
    {
        Interlocked.CompareExchange(ref _abortReason, reason, null);
        Close();
    }

    internal Exception? AbortReason => Volatile.Read(ref _abortReason);

    // ---- read buffer ----

    internal ReadOnlySpan<byte> Buffered => _buffer.AsSpan(_start, _end - _start);
    internal int BufferedCount => _end - _start;

    internal void Consume(int count)
    {
        Debug.Assert(count >= 0 && count <= _end - _start, $"consumed {count} of {_end - _start} buffered bytes");
        _start += count;
        if (_start == _end) _start = _end = 0;
    }

    internal byte[] TakeBuffered()
    {
        var copy = Buffered.ToArray();
        _start = _end = 0;
        return copy;
    }

    // The next response's read, started when the exchange leased this idle connection (TryStartReadAhead) and
    // awaited by the first FillAsync. In flight until that await ends: the buffer may not go back to the pool.
    private ValueTask<int> _readAhead;
    private bool _readAheadPending;
    private volatile bool _readAheadInFlight;

    /// <summary>Plain sockets only: their pending read needs no awaiting to be safe to drop when the connection closes.</summary>
    internal bool CanReadAhead => Socket is not null && Stream is NetworkStream && BufferedCount == 0;

    /// <summary>
    /// Starts reading the response before the request is written, as HttpClient does: an idle connection that has
    /// anything to read (EOF from a server that closed it, or stray bytes) is stale, and one that has nothing to
    /// read has its read already waiting. Under concurrency this replaces a Poll syscall per request (see
    /// BaseConnector.TryLeaseIdle). False: stale.
    /// </summary>
    internal bool TryStartReadAhead()
    {
        _start = _end = 0;
        ValueTask<int> read;
        try
        {
            read = Stream.ReadAsync(_buffer.AsMemory(), CancellationToken.None);
        }
        catch
        {
            return false;
        }
        if (read.IsCompleted)
        {
            try { read.GetAwaiter().GetResult(); } catch { /* a reset: stale as well; observed so nothing goes unobserved */ }
            return false;
        }
        _readAhead = read;
        _readAheadInFlight = true;
        _readAheadPending = true;
        return true;
    }

    // Not async itself: the buffer is prepared synchronously and the read core's task returned, so a response head
    // resumes one state machine fewer per read.
    /// <summary>
    /// Reads more bytes into the buffer, growing it up to <paramref name="maxBuffer"/>; 0 means EOF. With
    /// <paramref name="awaitingResponse"/> (the first read after a request was written) a lone request on a server
    /// that has been answering fast polls for the response first (<see cref="PollForResponse"/>).
    /// </summary>
    internal ValueTask<int> FillAsync(ReadTimer? timer, CancellationToken ct, int maxBuffer = 1 << 20, bool awaitingResponse = false)
    {
        // Nothing was buffered when the read-ahead started (CanReadAhead), so it reads at the buffer's start.
        if (_readAheadPending) return ReadCoreAsync(default, readAhead: true, fill: true, timer, ct);
        Debug.Assert(0 <= _start && _start <= _end && _end <= _buffer.Length, "buffer window out of range");
        Debug.Assert(Volatile.Read(ref _state) != 1, "a released (idle) connection is read only through its read-ahead");
        if (_start > 0 && (_end == _buffer.Length || _start > _buffer.Length / 2))
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= maxBuffer) throw new InvalidOperationException("Read buffer limit reached.");
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(maxBuffer, _buffer.Length * 2));
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        if (awaitingResponse && PollForResponse(ct) is var polled and >= 0) return new ValueTask<int>(polled);
        return ReadCoreAsync(_buffer.AsMemory(_end), readAhead: false, fill: true, timer, ct);
    }

    // ---- inline completions (ConnectorOptions.UnsafeInlineCompletions) ----

    private bool _inline; // completions made inline by this connection

    /// <summary>
    /// Called at the start of each exchange: with the owner's <see cref="ConnectorOptions.UnsafeInlineCompletions"/>,
    /// makes this socket's completions inline while other requests of the pool are out, and dispatched otherwise.
    /// The runtime reads the setting at each socket event, so a change applies to the response about to come.
    /// A websocket handshake passes false for <paramref name="allowInline"/>.
    /// </summary>
    internal void ChooseCompletions(bool allowInline = true)
    {
        if (_owner is not { Options.UnsafeInlineCompletions: true } owner || Socket is not { } socket || Transport.InlineCompletions.ProcessWide) return;
        // Not !LeasedAlone: that is false for every lease but an idle one taken while the pool was empty (a new
        // connection, a hand-off), which is right for "do not poll" but would put lone requests inline here.
        var want = allowInline && owner.OthersOut;
        if (want != _inline && Transport.InlineCompletions.TrySet(socket, want)) _inline = want;
    }

    // ---- waiting for a response by polling ----

    /// <summary>Set by the pool on each lease: true when no other lease of the pool was out (BaseConnector.TryLeaseIdle).</summary>
    internal bool LeasedAlone;

    // How long this connection's server has taken to answer lately (send to first byte), in Stopwatch ticks, as a
    // moving average; 0 until the first answer.
    private long _answerTicks;

    // True while PollForResponse may be receiving into the buffer: a Close() from another thread (the session closing)
    // must not return the buffer to the pool meanwhile.
    private volatile bool _polling;

    internal void NoteAnswerTime(long ticks) => _answerTicks = _answerTicks == 0 ? ticks : (3 * _answerTicks + ticks) / 4;

    /// <summary>
    /// A lone request on a server that answers within the owner's poll window
    /// (<see cref="ConnectorOptions.ResponsePollWindow"/>, 64 µs by default: a server on loopback or the same rack)
    /// waits for the response by polling the socket on its own thread, up to that window. Handed to the socket engine
    /// instead, the response's arrival goes through the epoll thread and a thread-pool dispatch, which on loopback
    /// was about 15% of a sequential round trip. Under concurrency, or when the server has been slower than the
    /// window, nobody polls: the CPU is needed elsewhere, or would be burnt for nothing. Returns the bytes read
    /// (0: EOF), or -1 when the read is left to the stream (TLS, once records arrived) or to the socket engine.
    /// </summary>
    private int PollForResponse(CancellationToken ct)
    {
        if (!LeasedAlone || _owner is null || Socket is not { } socket) return -1;
        // TLS: the socket's bytes are records, which only the stream can read; the poll waits for them, and the
        // stream's read then finds them there (completing on this thread, without the socket engine's dispatch).
        var records = Stream is not NetworkStream;
        var window = _owner.ResponsePollTicks;
        if (window == 0 || _answerTicks == 0 || _answerTicks >= window) return -1;
        _polling = true;
        try
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            do
            {
                // Readable: bytes or EOF, either of which the receive returns without blocking.
                if (!socket.Poll(0, SelectMode.SelectRead)) continue;
                if (records)
                {
                    _owner.CountPolledResponse();
                    return -1;
                }
                var buffer = _buffer;
                if (buffer.Length == 0) return -1; // closed meanwhile: the read below fails as the socket is gone
                var n = socket.Receive(buffer.AsSpan(_end), SocketFlags.None, out var error);
                if (error != SocketError.Success) return -1; // the socket engine's read reports it, mapped as usual
                _end += n;
                _owner.CountPolledResponse();
                return n;
            } while (System.Diagnostics.Stopwatch.GetTimestamp() - start < window && !ct.IsCancellationRequested);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed or aborted meanwhile: the read below fails with the reason.
        }
        finally
        {
            _polling = false;
        }
        return -1;
    }

    /// <summary>Reads straight into <paramref name="destination"/>, bypassing the buffer (large bodies).</summary>
    internal ValueTask<int> ReadRawAsync(Memory<byte> destination, ReadTimer? timer, CancellationToken ct) =>
        _readAheadPending ? ReadAheadIntoAsync(destination, timer, ct) : ReadCoreAsync(destination, readAhead: false, fill: false, timer, ct);

    // The exchange reads the head (FillAsync) first, so a body read never meets a pending read-ahead; kept correct
    // all the same, since a second read on the socket would take the first one's bytes.
    private async ValueTask<int> ReadAheadIntoAsync(Memory<byte> destination, ReadTimer? timer, CancellationToken ct)
    {
        var n = await FillAsync(timer, ct).ConfigureAwait(false);
        var k = Math.Min(n, destination.Length);
        Buffered[..k].CopyTo(destination.Span);
        Consume(k);
        return k;
    }

    /// <summary>
    /// One socket read under the SockRead timer, with errors mapped to the client's: a new read into
    /// <paramref name="destination"/>, or (<paramref name="readAhead"/>) the one TryStartReadAhead left waiting.
    /// With <paramref name="fill"/> the bytes were read into the buffer's free end, which then grows by them.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadCoreAsync(Memory<byte> destination, bool readAhead, bool fill, ReadTimer? timer, CancellationToken ct)
    {
        timer?.Arm(this);
        // The read-ahead started without the request's token: cancelling aborts the connection, which ends it.
        var registration = default(CancellationTokenRegistration);
        if (readAhead)
        {
            _readAheadPending = false;
            if (ct.CanBeCanceled) registration = ct.UnsafeRegister(static s => ((Connection)s!).Abort(new OperationCanceledException()), this);
        }
        try
        {
            var n = await (readAhead ? _readAhead : Stream.ReadAsync(destination, ct)).ConfigureAwait(false);
            if (fill) _end += n;
            return n;
        }
        catch (Exception) when (readAhead && ct.IsCancellationRequested)
        {
            // Before the abort reason: that abort was the cancellation itself.
            throw new OperationCanceledException(ct);
        }
        catch (Exception e) when (AbortReason is { } reason)
        {
            throw Wrap(reason, e);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            throw new ServerDisconnectedError("Server disconnected: " + e.Message, e);
        }
        finally
        {
            if (readAhead)
            {
                _readAhead = default;
                _readAheadInFlight = false;
                registration.Dispose();
            }
            timer?.Disarm();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        try
        {
            await Stream.WriteAsync(data, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (AbortReason is { } reason)
        {
            throw Wrap(reason, e);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            throw new ClientOSError("Cannot write request: " + e.Message, e.InnerException as SocketException ?? e);
        }
    }

    private static Exception Wrap(Exception reason, Exception e) =>
        reason is ClientError ? reason : new ClientConnectionError(reason.Message, e);
}

/// <summary>
/// The SockRead timeout: armed before each socket read and disarmed when bytes arrive, so it measures the
/// gap between chunks. Fires on the session's scheduler and aborts the connection.
/// </summary>
internal sealed class ReadTimer(IScheduler scheduler, TimeSpan timeout, TimeSpan ceilThreshold)
{
    private IDisposable? _pending;

    public void Arm(Connection connection)
    {
        var due = Ceiling.Deadline(scheduler.Now, timeout, ceilThreshold);
        _pending = Transport.TimerWheel.For(scheduler).Schedule(due, connection,
            static c => c.Abort(new SocketTimeoutError("Timeout on reading data from socket")));
    }

    public void Disarm() => Interlocked.Exchange(ref _pending, null)?.Dispose();
}
