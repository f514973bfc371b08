using System.Net.Sockets;
using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;

namespace RxHttp;

/// <summary>How a websocket ends: the closing handshake, a failure, a drop, and the timers that bound them.</summary>
public sealed partial class ClientWebSocket
{
    /// <summary>Ends the message stream once: <paramref name="last"/>, then completion or <paramref name="error"/>.</summary>
    private void Finish(WsMessage? last, Exception? error)
    {
        lock (_emitGate)
        {
            if (_completed) return;
            _completed = true;
            // Subscribers without an error handler would throw from OnError; the failure is on Exception and in the ERROR message.
            try
            {
                if (last is not null) _subject.OnNext(last);
                if (error is not null) _subject.OnError(error);
                else _subject.OnCompleted();
            }
            catch (Exception)
            {
                // See above.
            }
            if (_inbox is { } inbox)
            {
                if (last is not null && !inbox.Writer.TryWrite(last)) _undeliveredTerminal = last;
                inbox.Writer.TryComplete();
            }
        }
    }

    private void Fail(Exception error, int closeCode)
    {
        lock (_gate)
        {
            if (_dropped && _completed) return;
            _exception ??= error;
            _closeCode = closeCode;
        }
        Drop();
        Finish(WsMessage.CreateError(error), error);
    }

    /// <summary>Closes the socket now; idempotent.</summary>
    // Under _gate: the heartbeat, its PONG check and the receive deadline, which no socket that is dropped or closing needs.
    private void StopTimers()
    {
        _heartbeat?.Stop();
        _pongTimer?.Dispose();
        _receiveDeadline?.Stop();
    }

    private void Drop()
    {
        bool disposeReader;
        lock (_gate)
        {
            if (_dropped) return;
            _dropped = true;
            disposeReader = !_loopStarted;
            StopTimers();
            _closeCode ??= (int)WsCloseCode.AbnormalClosure;
        }
        _loopCts.Cancel();
        try { _socket?.Shutdown(SocketShutdown.Both); } catch { /* already gone */ }
        try { _stream.Dispose(); } catch { /* SslStream may throw on a dead socket */ }
        _socket?.Dispose();
        if (disposeReader)
        {
            _reader.Dispose();
            _loopDone.TrySetResult();
        }
        ObserveFault(DisposeWriterAsync());
        _metrics?.Closed();
        _whenClosed.OnNext(Unit.Default);
        _whenClosed.OnCompleted();
    }

    /// <summary>Drops the socket without a closing handshake (session closed, handshake abandoned).</summary>
    internal void Abort()
    {
        Drop();
        Finish(WsMessage.ClosedMessage, null);
    }

    private Task CloseTask(byte[] payload)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            if (_dropped) return Task.CompletedTask;
            if (_closeTask is not null) return _closeTask;
            if (!_virtualClock) return _closeTask = CloseCoreAsync(payload);
            // On a virtual clock the handshake runs inline, but not under the lock (it delivers to subscribers): the
            // task is stored first, so the loop sees a close under way, as the Yield in CloseCoreAsync ensures otherwise.
            done = new TaskCompletionSource();
            _closeTask = done.Task;
        }
        _ = CloseInlineAsync(payload, done);
        return done.Task;
    }

    // Never faults: the outcome goes to done.
    private async Task CloseInlineAsync(byte[] payload, TaskCompletionSource done)
    {
        try
        {
            await CloseCoreAsync(payload).ConfigureAwait(false);
            done.TrySetResult();
        }
        catch (Exception e)
        {
            done.TrySetException(e);
        }
    }

    private async Task CloseCoreAsync(byte[] payload)
    {
        // Yield so the task is stored before anything below can observe _closeTask (CloseTask stores it first on a virtual clock).
        await new ThreadPoolHop(!_virtualClock);
        bool peerClosed;
        lock (_gate)
        {
            peerClosed = _closeCode is not null && !_dropped;
            // As aiohttp's close(): WsClose alone bounds the wait for the answer. A heartbeat PING cannot follow our
            // CLOSE (RFC 6455 5.5.1), so its missing PONG, or a receive timeout, would fail a close the user asked for.
            StopTimers();
        }
        _closing.Cancel(); // the loop must reach the server's CLOSE, whoever is (not) taking messages
        // WsClose bounds the whole close, our CLOSE's own send included: it waits for the send lock, which a send stalled on
        // a peer that stopped reading holds for good (aiohttp's close() gives up after its timeout there too).
        IDisposable? timer = null;
        var timedOut = new TaskCompletionSource(_virtualClock ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        if (ClientTimeout.Active(_options.Timeout.WsClose) is { } wait)
            timer = Transport.TimerWheel.After(_scheduler, wait, timedOut, static t => t.TrySetResult()); // a WsClose of TimeSpan.MaxValue is "never"
        var send = SendFrameAsync(WsMsgType.Close, payload, false, CancellationToken.None, isClose: true);
        if (await Task.WhenAny(send, timedOut.Task).ConfigureAwait(false) == timedOut.Task)
        {
            ObserveFault(send); // fails once Drop has closed the stream under the stalled send
            TimedOut();
            return;
        }
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (WsConnectionError)
        {
            // Cannot send (already closing, or the socket died): nothing to wait for.
            peerClosed = true;
        }
        if (peerClosed)
        {
            // autoclose off: the server's CLOSE was delivered already, ours answers it.
            timer?.Dispose();
            Drop();
            Finish(WsMessage.ClosedMessage, null);
            return;
        }
        EnsureReading();
        var first = await Task.WhenAny(_loopDone.Task, timedOut.Task).ConfigureAwait(false);
        timer?.Dispose();
        if (first == timedOut.Task)
        {
            TimedOut();
            return;
        }
        Drop();
        Finish(WsMessage.ClosedMessage, null);
    }

    private void TimedOut()
    {
        // A server's CLOSE that came while ours could not go out (behind a stalled send) still says why it ended.
        lock (_gate) _closeCode ??= (int)WsCloseCode.AbnormalClosure;
        Drop();
        Finish(WsMessage.ClosedMessage, null);
    }

    // ---- timers (all on WsConnectOptions.Scheduler, else the session's; all but the close wait through its timer wheel) ----

    /// <summary>
    /// aiohttp's heartbeat: any inbound data restarts the wait (<see cref="Transport.IdleDeadline.Touch"/> on each
    /// read); when it runs out a PING goes and half the heartbeat is left for an answer. Null when off.
    /// </summary>
    private Transport.IdleDeadline? StartHeartbeat()
    {
        if (ClientTimeout.Active(_options.Heartbeat) is not { } heartbeat) return null;
        Transport.IdleDeadline? deadline = null;
        deadline = new Transport.IdleDeadline(_scheduler, heartbeat, _ceilThreshold, () => SendHeartbeat(deadline!, heartbeat));
        deadline.Start();
        return deadline;
    }

    private void SendHeartbeat(Transport.IdleDeadline deadline, TimeSpan heartbeat)
    {
        var pingAt = _scheduler.Now;
        lock (_gate)
        {
            if (_dropped || _closeTask is not null || _closeCode is not null) return; // closing: the timers are stopped
            // Whatever comes in after the PING is an answer: the check then resumes the heartbeat from the latest read,
            // where aiohttp cancels the check at each read and restarts the heartbeat.
            _pongTimer = _wheel.Schedule(Ceiling.Deadline(pingAt, heartbeat / 2, _ceilThreshold), (Socket: this, Deadline: deadline, PingAt: pingAt, Wait: heartbeat / 2), static s =>
            {
                if (s.Deadline.LastActivity >= s.PingAt) s.Deadline.Resume();
                else s.Socket.Fail(new ServerTimeoutError($"No data received within {s.Wait.TotalSeconds:0.###} s after a heartbeat PING"), (int)WsCloseCode.AbnormalClosure);
            });
        }
        ObserveFault(SendFrameAsync(WsMsgType.Ping, ReadOnlyMemory<byte>.Empty, false, CancellationToken.None));
    }

    /// <summary>aiohttp's <c>receive_timeout</c>: exact, not ceiled, as aiohttp's. Null when off.</summary>
    private Transport.IdleDeadline? CreateReceiveDeadline() =>
        ClientTimeout.Active(_options.Timeout.WsReceive) is { } wait
            ? new Transport.IdleDeadline(_scheduler, wait, TimeSpan.MaxValue, () => ReceiveTimedOut(wait))
            : null;

    // aiohttp's receive_timeout runs only inside receive(): a message waiting in its queue, or being handled between two
    // receive() calls, is not the server's silence. Here the loop hands each message to the subscribers and the queue;
    // while it does (a slow OnNext, a full queue holding the loop), an expiry waits, and the wait starts over when it is done.
    private bool _handingOver;          // under _gate
    private bool _expiredInHandOver;    // under _gate

    private void ReceiveTimedOut(TimeSpan wait)
    {
        bool handedOverMeanwhile;
        lock (_gate)
        {
            if (_handingOver)
            {
                _expiredInHandOver = true;
                return;
            }
            // A hand-over that ended after the deadline found itself due restarted the wait (HandOverEnded touches first).
            handedOverMeanwhile = _scheduler.Now < _receiveDeadline!.LastActivity + wait;
        }
        if (handedOverMeanwhile)
        {
            _receiveDeadline.Resume();
            return;
        }
        Fail(new ServerTimeoutError($"No message received within {wait.TotalSeconds:0.###} s"), (int)WsCloseCode.AbnormalClosure);
    }

    private void HandOverStarted()
    {
        if (_receiveDeadline is null) return;
        lock (_gate) _handingOver = true;
    }

    private void HandOverEnded()
    {
        if (_receiveDeadline is not { } deadline) return;
        deadline.Touch();
        bool expired;
        lock (_gate)
        {
            _handingOver = false;
            expired = _expiredInHandOver;
            _expiredInHandOver = false;
        }
        // An expiry that came meanwhile ended the wait; a stopped deadline (closing, dropped) does not resume.
        if (expired) deadline.Resume();
    }

    private static void ObserveFault(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
