using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace RxHttp;

/// <summary>The connection's read buffer and its socket reads: one reader at a time, the exchange's and then the body's.</summary>
public sealed partial class Connection
{
    private byte[] _buffer;
    private int _start;
    private int _end;

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

    /// <summary>
    /// Takes into the buffer whatever the server has sent so far, without waiting: while a body is still going out,
    /// bytes from the server are its answer come early. Plain connections only (over TLS, bytes on the socket may be
    /// the protocol's own, and reading them would wait for data that is not coming). True when anything is buffered.
    /// </summary>
    internal bool TryTakeAvailable(int maxBuffer)
    {
        if (Socket is not { } socket || Stream is not (NetworkStream or Transport.LowWaterStream)) return false;
        // A reused connection may have its response read started already (a read-ahead, into the buffer's start):
        // what it got is the answer's first bytes; until it has some, the socket has none either.
        if (_readAhead.Pending)
        {
            if (_readAhead.TakeIfDone() is not { } got) return false;
            _end += got;
            if (got == 0) return _end > _start;
        }
        int available;
        try
        {
            available = socket.Available;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
        if (available > 0)
        {
            if (MakeRoom(maxBuffer))
            {
                try
                {
                    var n = socket.Receive(_buffer.AsSpan(_end, Math.Min(available, _buffer.Length - _end)), SocketFlags.None, out var error);
                    if (error == SocketError.Success && n > 0) _end += n;
                }
                catch (ObjectDisposedException)
                {
                    // Closed meanwhile (a cancel): the body's next write reports it.
                }
            }
        }
        return _end > _start;
    }

    /// <summary>
    /// Room after the buffered bytes for a read: they move to the buffer's start when they sit past its middle or
    /// reach its end, and a full buffer is swapped for one twice its size, up to <paramref name="maxBuffer"/>. False:
    /// full at that size.
    /// </summary>
    private bool MakeRoom(int maxBuffer)
    {
        if (_start > 0 && (_end == _buffer.Length || _start > _buffer.Length / 2))
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end < _buffer.Length) return true;
        if (_buffer.Length >= maxBuffer) return false;
        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(maxBuffer, _buffer.Length * 2L));
        Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
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
        if (_readAhead.Pending)
        {
            if (TlsInner is { } inner)
            {
                // TLS, after the lease's probe (TryProbeTls): a lone request polls the socket for the response while
                // the probe's wait on it is parked; letting it go then has the SslStream read and decrypt the records
                // into the buffer on this thread.
                if (awaitingResponse) PollForResponse(ct);
                inner.Unpark();
            }
            return ReadCoreAsync(default, readAhead: true, fill: true, timer, ct);
        }
        Debug.Assert(0 <= _start && _start <= _end && _end <= _buffer.Length, "buffer window out of range");
        Debug.Assert(Volatile.Read(ref _state) != 1, "a released (idle) connection is read only through its read-ahead");
        if (!MakeRoom(maxBuffer)) throw new InvalidOperationException("Read buffer limit reached.");
        if (awaitingResponse && PollForResponse(ct) is var polled and >= 0) return new ValueTask<int>(polled);
        return ReadCoreAsync(_buffer.AsMemory(_end), readAhead: false, fill: true, timer, ct);
    }

    /// <summary>Reads straight into <paramref name="destination"/>, bypassing the buffer (large bodies).</summary>
    internal ValueTask<int> ReadRawAsync(Memory<byte> destination, ReadTimer? timer, CancellationToken ct) =>
        _readAhead.Pending ? ReadAheadIntoAsync(destination, timer, ct) : ReadCoreAsync(destination, readAhead: false, fill: false, timer, ct);

    /// <summary>True when a read may scatter straight into several arrays: a plain socket with nothing buffered or pending.</summary>
    internal bool CanScatter => Socket is not null && Stream is NetworkStream && !_readAhead.Pending && _end == _start;

    /// <summary>One socket read scattered into <paramref name="buffers"/> in order (recvmsg), under the SockRead timer.</summary>
    internal ValueTask<int> ReadScatterAsync(IList<ArraySegment<byte>> buffers, ReadTimer? timer, CancellationToken ct) =>
        ReadCoreAsync(default, readAhead: false, fill: false, timer, ct, buffers);

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
    /// <paramref name="destination"/> (or scattered into <paramref name="scatter"/>), or (<paramref name="readAhead"/>)
    /// the one TryStartReadAhead left waiting. With <paramref name="fill"/> the bytes were read into the buffer's
    /// free end, which then grows by them.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadCoreAsync(Memory<byte> destination, bool readAhead, bool fill, ReadTimer? timer, CancellationToken ct,
        IList<ArraySegment<byte>>? scatter = null)
    {
        EnterRead();
        timer?.Arm(this, ReadTimedOut);
        if (scatter is not null) LowWater?.BeforeRead(); // the socket's own receive, past the stream
        // The read-ahead started without the request's token, and the socket's scatter receive takes none: for
        // those, cancelling aborts the connection, which ends the read.
        var tokenless = readAhead || scatter is not null;
        var registration = default(CancellationTokenRegistration);
        if (tokenless && ct.CanBeCanceled) registration = ct.UnsafeRegister(static s => ((Connection)s!).Abort(new OperationCanceledException()), this);
        try
        {
            var n = await (readAhead ? _readAhead.Take()
                : scatter is not null ? new ValueTask<int>(Socket!.ReceiveAsync(scatter, SocketFlags.None))
                : Stream.ReadAsync(destination, ct)).ConfigureAwait(false);
            if (fill) _end += n;
            return n;
        }
        catch (Exception) when (tokenless && ct.IsCancellationRequested)
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
            if (readAhead) _readAhead.End();
            registration.Dispose();
            // Fired first: its abort may still be on its way from the scheduler's thread, and must land before anyone
            // hands this connection on, not on the next lease of it.
            timer?.Disarm(this, ReadTimedOut);
            ExitRead();
        }
    }

    private static readonly Action<Connection> ReadTimedOut = static c => c.Abort(new SocketTimeoutError("Timeout on reading data from socket"));

#if DEBUG
    private int _readers; // reads in progress: at most one
#endif

    // One reader at a time: a second read on the socket would take the first one's bytes, and both move the window.
    [Conditional("DEBUG")]
    private void EnterRead()
    {
#if DEBUG
        Debug.Assert(Interlocked.Increment(ref _readers) == 1, "two reads at once on one connection");
#endif
    }

    [Conditional("DEBUG")]
    private void ExitRead()
    {
#if DEBUG
        Interlocked.Decrement(ref _readers);
#endif
    }
}
