using System.Buffers;
using System.Net.Sockets;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Threading.Channels;
using RxHttp.WebSockets;

namespace RxHttp;

/// <summary>The one read loop: frames in, messages out to the inbox, the subscribers and the automatic replies.</summary>
public sealed partial class ClientWebSocket
{
    private Channel<WsMessage> EnsureInbox()
    {
        Channel<WsMessage> inbox;
        lock (_emitGate)
        {
            if (_inbox is null)
            {
                _inbox = Channel.CreateBounded<WsMessage>(new BoundedChannelOptions(Math.Max(1, _options.MaxQueuedMessages))
                {
                    FullMode = BoundedChannelFullMode.Wait,
                    SingleWriter = true,
                });
                if (_completed) _inbox.Writer.TryComplete();
            }
            inbox = _inbox;
        }
        EnsureReading();
        return inbox;
    }

    private void EnsureReading()
    {
        lock (_gate)
        {
            if (_loopStarted || _dropped) return;
            _loopStarted = true;
        }
        // Off the subscriber's thread: a subscription must not run the loop (and its callbacks) inline. On a virtual
        // clock it starts inline instead, so a TestScheduler test sees the loop waiting for data (its receive timer
        // armed) when Subscribe returns, and every tick after that decided by AdvanceBy rather than by a pool thread.
        if (_virtualClock) ObserveFault(RunLoopAsync());
        else ObserveFault(Task.Run(RunLoopAsync));
    }

    // The receive buffer, rented while bytes are there to parse. An idle websocket waits with a zero-byte read (as
    // Kestrel and SslStream do) and holds no buffer: with a 64 KiB buffer each, 10,000 open websockets held 640 MB.
    private const int ReceiveBufferSize = 64 * 1024;

    /// <summary>Whether the receive loop holds a buffer now (tests: an idle websocket holds none).</summary>
    internal bool HoldsReceiveBuffer => Volatile.Read(ref _holdsBuffer);
    private bool _holdsBuffer;

    // Completes when bytes (or the end of the stream) are there to read. On a plain socket a zero-byte read was seen to
    // complete now and then with nothing to read, which left the read after it waiting with a buffer: it is checked
    // (bytes available, or readable with none: the end) and repeated, a few times at most.
    private async ValueTask WaitForBytesAsync(CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            await _stream.ReadAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
            if (attempt == 3 || _stream is not NetworkStream || _socket is not { } socket) return;
            try
            {
                if (socket.Available > 0 || socket.Poll(0, SelectMode.SelectRead)) return;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // the read after this one reports it
            }
        }
    }

    private async Task RunLoopAsync()
    {
        var leftover = _leftover!;
        _leftover = null;
        byte[]? buffer = null;
        if (leftover.Length > 0)
        {
            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(ReceiveBufferSize, leftover.Length + 16 * 1024));
            Volatile.Write(ref _holdsBuffer, true);
            leftover.CopyTo(buffer, 0);
        }
        int start = 0, end = leftover.Length;
        var ct = _loopCts.Token;
        // Only streams known to wait in a zero-byte read; another stream might return 0 at once and spin.
        var zeroByteReads = _stream is NetworkStream or System.Net.Security.SslStream;
        try
        {
            _receiveDeadline?.Start(); // the wait for a message starts with reading
            while (true)
            {
                while (end > start)
                {
                    var more = _reader.TryRead(buffer!.AsSpan(start, end - start), out var used, out var message);
                    start += used;
                    if (!more) break;
                    if (!await OnMessageAsync(message!, ct).ConfigureAwait(false)) return;
                }
                // What is left is at most a partial frame header; keep it at the front.
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer!, start, buffer!, 0, end - start);
                    end -= start;
                    start = 0;
                }
                if (end == 0 && zeroByteReads)
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                        Volatile.Write(ref _holdsBuffer, false);
                    }
                    await WaitForBytesAsync(ct).ConfigureAwait(false);
                }
                if (buffer is null)
                {
                    buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
                    Volatile.Write(ref _holdsBuffer, true);
                }
                var n = await _stream.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
                if (n == 0)
                {
                    Fail(new ServerDisconnectedError("The server closed the connection without a CLOSE frame"), (int)WsCloseCode.AbnormalClosure);
                    return;
                }
                end += n;
                _heartbeat?.Touch();
            }
        }
        catch (WebSocketProtocolException e)
        {
            // RFC 6455 7.1.7 "fail the connection": a CLOSE with the reason's code, then drop without waiting.
            lock (_gate) _closeCode ??= (int)e.CloseCode;
            // The peer may already be gone, or not reading; the close code still says why we failed.
            await SendCloseBoundedAsync(WsFrameWriter.BuildClosePayload((int)e.CloseCode), CancellationToken.None).ConfigureAwait(false);
            Fail(e, (int)e.CloseCode);
        }
        catch (Exception) when (Closed)
        {
            // The socket was dropped on purpose (close, timeout, dispose); the reason is already reported.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            Fail(new ServerDisconnectedError("Server disconnected: " + e.Message, e), (int)WsCloseCode.AbnormalClosure);
        }
        catch (Exception e)
        {
            Fail(e, (int)WsCloseCode.AbnormalClosure);
        }
        finally
        {
            // The loop's reads have all ended (each is awaited), so the buffer is nobody's now.
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            Volatile.Write(ref _holdsBuffer, false);
            _reader.Dispose();
            _loopDone.TrySetResult();
        }
    }

    /// <returns>false when the loop must stop.</returns>
    private async ValueTask<bool> OnMessageAsync(WsMessage message, CancellationToken ct)
    {
        _receiveDeadline?.Touch();
        switch (message.Type)
        {
            case WsMsgType.Ping when _options.Autoping:
                try
                {
                    await SendFrameAsync(WsMsgType.Pong, message.Data, false, ct).ConfigureAwait(false);
                }
                catch (WsConnectionError)
                {
                    // Closing or gone: the read side will see the end.
                }
                return true;
            case WsMsgType.Pong when _options.Autoping:
                return true;
            case WsMsgType.Close:
                bool weClosed, ourCloseWaits;
                lock (_gate)
                {
                    _closeCode = message.CloseCode ?? (int)WsCloseCode.NoStatusReceived;
                    weClosed = _closeSent || _closeTask is not null;
                    // Our close has begun but its CLOSE is not out yet: it waits for the send lock, behind a message being
                    // written. Dropping now would cut that frame and never send the CLOSE; the close drops the socket once
                    // its CLOSE is out (this loop is done by then), as autoclose's answer waits for the lock too.
                    ourCloseWaits = _closeTask is not null && !Volatile.Read(ref _closeSent);
                    // Nothing is read after the server's CLOSE: with autoclose off a heartbeat's PONG could never count
                    // and a receive timeout could only fire, either replacing the server's code with 1006.
                    StopTimers();
                }
                if (!weClosed && _options.Autoclose)
                {
                    // Echo the server's code, as RFC 6455 5.5.1 suggests; an empty CLOSE is answered with an empty one.
                    // Nothing to answer on, or no way to send it: the socket goes anyway.
                    var payload = message.CloseCode is { } code ? WsFrameWriter.BuildClosePayload(code) : Array.Empty<byte>();
                    await SendCloseBoundedAsync(payload, ct).ConfigureAwait(false);
                }
                if (weClosed ? !ourCloseWaits : _options.Autoclose) Drop();
                Finish(message, null);
                return false;
            default:
                _metrics?.Received(message.Type);
                HandOverStarted();
                try
                {
                    Deliver(message);
                    if (Volatile.Read(ref _inbox) is { } inbox && !inbox.Writer.TryWrite(message)) await WaitForRoomAsync(inbox, message, ct).ConfigureAwait(false);
                }
                finally
                {
                    HandOverEnded();
                }
                return true;
        }
    }

    // A full inbox holds the loop (back-pressure on the server) until our CLOSE goes. From then on the loop must read on to
    // the server's CLOSE, or the close would wait out WsClose and end in 1006 whenever nobody takes messages any more (a
    // consumer that broke out of its loop, then closed, while the server streamed). aiohttp's close() reads and discards
    // what comes meanwhile too; here subscribers still saw the message, and only a Receive() that was not made misses it.
    private async ValueTask WaitForRoomAsync(Channel<WsMessage> inbox, WsMessage message, CancellationToken ct)
    {
        if (_closing.IsCancellationRequested) return;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, _closing.Token);
        try
        {
            await inbox.Writer.WriteAsync(message, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // Closing: dropped, as above.
        }
    }

    /// <summary>
    /// Sends a CLOSE from the read loop (failing the connection, or answering the server's). It waits for the send lock,
    /// which a send stalled on a peer that stopped reading holds for good: WsClose bounds that wait, as it bounds a
    /// close we start, so the loop still ends and drops the socket, which fails the stalled send. Failing to send is
    /// not an error here; the loop's own cancellation (<paramref name="ct"/>) still is.
    /// </summary>
    private async Task SendCloseBoundedAsync(byte[] payload, CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct); // not disposed: the timer may fire while it is being disposed
        using var bound = ClientTimeout.Active(_options.Timeout.WsClose) is { } wait ? Transport.TimerWheel.After(_scheduler, wait, cts, static c => c.Cancel()) : null;
        try
        {
            await SendFrameAsync(WsMsgType.Close, payload, false, cts.Token, isClose: true).ConfigureAwait(false);
        }
        catch (Exception x) when (x is ClientError || (x is OperationCanceledException && !ct.IsCancellationRequested))
        {
        }
    }

    // A subscriber that throws from its OnNext is unsubscribed (Observable.Create detaches it) and its exception is
    // its own: it goes where Rx sends an observer's exception from a pool thread. Let through, the loop took it for
    // the connection's failure: the socket was dropped with 1006, the other subscribers got the subscriber's exception
    // as the websocket's error, and the one that threw was told nothing.
    private void Deliver(WsMessage message)
    {
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? fault = null;
        lock (_emitGate)
        {
            if (_completed) return;
            try
            {
                _subject.OnNext(message);
            }
            catch (Exception e)
            {
                fault = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        }
        if (fault is not null) ObserverFaults.Unhandled(fault);
    }
}
