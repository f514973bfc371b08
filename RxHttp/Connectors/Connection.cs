using System.Buffers;
using System.Runtime.CompilerServices;
using System.Net.Sockets;
using RxHttp.Http1;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// A lease on one open connection, handed out by a connector. Release it to return it to the pool, close it
/// to drop it, or detach it to take the stream out of the pool's accounting (websocket upgrades, tunnels).
/// </summary>
// This file is the lease's lifecycle; its read buffer and reads are in Connection.Reading.cs, how it waits for a
// response (read-ahead, polling, inline completions) in Connection.Waiting.cs. Writes are short enough to stay here.
public sealed partial class Connection : IDisposable
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
    private int _state; // 0 leased, 1 released, 2 closed, 3 detached
    private Exception? _abortReason;

    internal Connection(BaseConnector? owner, ConnectionKey key, Socket? socket, Stream stream)
    {
        _owner = owner;
        Key = key;
        Socket = socket;
        Stream = stream;
        _plainLowWater = stream as LowWaterStream;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        if (owner is not null)
        {
            _metrics = ConnectionMetrics.Open(key, socket);
            if (owner.Options.PooledConnectionLifetime is { } lifetime) ReuseUntil = owner.Scheduler.Now + lifetime;
        }
    }

    /// <summary>When the pool stops reusing this connection (its PooledConnectionLifetime ends); null: never.</summary>
    internal DateTimeOffset? ReuseUntil { get; }

    private readonly ConnectionMetrics? _metrics; // null unless a listener was on when it opened

    /// <summary>What this connection is for.</summary>
    public ConnectionKey Key { get; }

    /// <summary>True once the connection is closed (by either side, by the pool or by an error).</summary>
    public bool Closed => Volatile.Read(ref _state) == 2;

    // Released and not leased again: what the pool's idle list holds (its Debug invariants check it).
    internal bool IsReleased => Volatile.Read(ref _state) == 1;

    /// <summary>How many requests this connection has carried.</summary>
    public int RequestCount { get; internal set; }

    internal Socket? Socket { get; }
    internal Stream Stream { get; }

    private readonly LowWaterStream? _plainLowWater;

    /// <summary>
    /// The socket's own stream, whose low-water mark can be raised: <see cref="Stream"/> on a plain TCP socket, the
    /// stream under the SslStream over TLS (<see cref="TlsInner"/>); null on other transports.
    /// </summary>
    internal LowWaterStream? LowWater => _plainLowWater ?? TlsInner;
    internal Http1.PooledBufferWriter Writer { get; } = new();

    // Bodies being written by someone other than the exchange, which reads the answer meanwhile (HeldBody, after the
    // 100 Continue wait ran out): while one is, a close by the exchange is not the writer's own.
    private int _backgroundWrites;

    /// <summary>A body starts going out beside the exchange's read of the answer; <see cref="EndBackgroundWrite"/> when it ended.</summary>
    internal void BeginBackgroundWrite() => Interlocked.Increment(ref _backgroundWrites);

    internal void EndBackgroundWrite() => Interlocked.Decrement(ref _backgroundWrites);

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
    internal HostPool? Bucket; // the owner's accounting for this connection's key, set when it is first leased

    /// <summary>True when the connection came from the idle list rather than being freshly opened.</summary>
    internal bool IsReused => RequestCount > 0;

    // Set once the current exchange read any response byte: a keep-alive connection that failed before that may
    // simply have been closed by the server while idle, and the request can be retried on a fresh one.
    internal bool ResponseStarted;

    /// <summary>
    /// Whether <paramref name="error"/> is a server's close of this keep-alive connection while it sat idle, seen as
    /// the next request went out (<paramref name="wasReused"/>: the connection came from the idle list then): the
    /// connection failed with no byte of an answer and was not aborted by us, so the request may go again on a fresh one.
    /// </summary>
    internal bool DroppedWhileIdle(Exception error, bool wasReused) =>
        wasReused && !ResponseStarted && error is ServerDisconnectedError or ClientOSError && AbortReason is null;

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

    /// <summary>Closes the connection if it is still leased: one the caller detached (or that ended) is left alone.</summary>
    internal void CloseLease()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) != 0) return;
        CloseCore(keepBuffer: true);
        _owner?.OnLeaseEnded(this);
    }

    /// <summary>
    /// Takes the stream out of the pool: the pool no longer counts it and will never reuse or close it. The caller
    /// owns the returned stream, which reads first any bytes the connection had already buffered (what a server sent
    /// right behind a 101 Switching Protocols head), then the socket's.
    /// </summary>
    public Stream Detach()
    {
        if (Interlocked.CompareExchange(ref _state, 3, 0) != 0) throw new InvalidOperationException("Only a leased connection can be detached.");
        System.Diagnostics.Debug.Assert(!_readAhead.Pending, "detached with a read pending on the stream");
        // Internal callers take the buffered bytes first (TakeBuffered) and get the socket's stream itself.
        var leftover = _end > _start ? TakeBuffered() : null;
        DispatchCompletions();
        _metrics?.Ended();
        _owner?.OnLeaseEnded(this);
        // The buffers go back to the pool unless bytes are still in them (TakeBuffered comes first) or a read may
        // still write into it: a websocket keeps the stream for its life, and before this each handshake left its
        // 16 KiB read buffer to the GC (half of what a connect allocated).
        Writer.Dispose();
        if (_end == _start && NoReadCanWriteBuffer)
        {
            var b = Interlocked.Exchange(ref _buffer, Array.Empty<byte>());
            if (b.Length > 0) ArrayPool<byte>.Shared.Return(b);
        }
        return leftover is null ? Stream : new PrefixedDuplexStream(leftover, Stream);
    }

    /// <summary>Whether the connection still holds a read buffer (tests).</summary>
    internal bool HoldsReadBuffer => _buffer.Length > 0;

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
        TlsInner?.FailParked(); // a probe's read the exchange never took ends with the connection
        // The write buffer goes back to the pool only when no write can be under way: a close by anyone but the lease's
        // own code (keepBuffer: an abort, a timer, the session closing) or a body still going out in the background
        // may meet a writer between taking the buffer's span and filling it, which would then write into an array
        // another connection rented. Left to the GC instead, as the read buffer is.
        if (!keepBuffer && Volatile.Read(ref _backgroundWrites) == 0) Writer.Dispose();
        if (keepBuffer) return;
        var b = Interlocked.Exchange(ref _buffer, Array.Empty<byte>());
        if (b.Length > 0 && NoReadCanWriteBuffer) ArrayPool<byte>.Shared.Return(b);
    }

    // The buffer may still be referenced by a read in flight on another thread (an abort ends the connection under
    // it); returning it to the pool then would let two owners share it, so it is left to the GC instead.
    private bool NoReadCanWriteBuffer => _abortReason is null && !_readAhead.InFlight && !_polling;

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

    // ---- writing ----

    /// <summary>
    /// The SockRead timeout of the request this connection carries, applied to each of its writes (set by the
    /// exchange per request; null: none). A server that stops reading the request (its receive window full) would
    /// otherwise hold the write until Total, or for ever without one, where aiohttp's sock_read, armed before the
    /// request is sent, fails it. Re-armed every 64 KiB written, so an upload that keeps moving is not cut by it.
    /// </summary>
    internal ReadTimer? WriteTimer { get; set; }

    private const int TimedWriteSlice = 64 * 1024;

    private static readonly Action<Connection> WriteTimedOut = static c => c.Abort(new SocketTimeoutError("Timeout on writing data to socket"));

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var timer = WriteTimer;
        try
        {
            if (timer is null) await Stream.WriteAsync(data, ct).ConfigureAwait(false);
            else
            {
                // In slices, so the timer measures progress: one large body write to a server that reads slowly but
                // steadily can take longer than SockRead as a whole.
                for (var offset = 0; offset < data.Length; offset += TimedWriteSlice)
                {
                    timer.Arm(this, WriteTimedOut);
                    await Stream.WriteAsync(data.Slice(offset, Math.Min(TimedWriteSlice, data.Length - offset)), ct).ConfigureAwait(false);
                    timer.Disarm(this, WriteTimedOut); // see ReadCoreAsync
                }
            }
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
            WriteFailed = true;
            throw new ClientOSError("Cannot write request: " + e.Message, e.InnerException as SocketException ?? e);
        }
        finally
        {
            timer?.Disarm(this, WriteTimedOut);
        }
    }

    /// <summary>
    /// A write to the socket failed. Tells a failed write apart from a <see cref="ClientOSError"/> the request's own
    /// body source threw (a request of its own that could not connect): only the first may have an answer waiting.
    /// </summary>
    internal bool WriteFailed { get; private set; }

    // A read or write that failed because the connection was aborted fails with the abort's reason.
    private static Exception Wrap(Exception reason, Exception e) =>
        reason is ClientError ? reason : new ClientConnectionError(reason.Message, e);
}
