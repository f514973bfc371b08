using System.Buffers;
using System.Net.Sockets;
using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Reactive.Threading.Tasks;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using RxHttp.WebSockets;

namespace RxHttp;

/// <summary>
/// An open websocket (aiohttp's <c>ClientWebSocketResponse</c>). Received messages arrive on <see cref="Messages"/>,
/// a <b>hot</b> stream fed by one receive loop and shared by every subscriber; <see cref="Receive"/> and
/// <see cref="ReadAllAsync"/> are pull views of the same loop. Sends return cold observables, are serialised and
/// may be called from any thread.
/// </summary>
/// <remarks>
/// The socket is first read when something first consumes messages (a subscription to <see cref="Messages"/>,
/// <see cref="Receive"/>, <see cref="ReadAllAsync"/>) or when <see cref="Close(int, string?)"/> is called, so the first
/// consumer misses nothing. Later subscribers only see messages received after they subscribed; to let several
/// consumers start at different times and see everything, share a replay:
/// <c>var all = ws.Messages.Replay(); all.Connect();</c>.
/// Disposing message subscriptions never closes the socket; <see cref="Close(int, string?)"/>, disposing this object
/// or disposing the <see cref="ClientSession.WsConnect(Url, WsConnectOptions?)"/> subscription does.
/// </remarks>
public sealed partial class ClientWebSocket : IDisposable, IAsyncDisposable, IAsyncEnumerable<WsMessage>
{
    private readonly Stream _stream;
    private readonly Socket? _socket;
    private readonly WsFrameReader _reader;
    private readonly WsFrameWriter _writer;
    private readonly IScheduler _scheduler;
    private readonly TimeSpan _ceilThreshold;
    private readonly WsConnectOptions _options;
    private readonly Func<object?, string> _jsonSerialize;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _loopCts = new();
    private readonly Subject<WsMessage> _subject = new();
    private readonly AsyncSubject<Unit> _whenClosed = new();
    private readonly TaskCompletionSource _loopDone;
    // On a virtual clock (a TestScheduler) the loop, the close handshake and their continuations run inline, so each
    // step happens at the tick the test advanced to rather than when a pool thread gets to it.
    private readonly bool _virtualClock;
    private readonly object _gate = new();      // socket lifetime, loop start, timers
    private readonly object _emitGate = new();  // serialises notifications to subscribers

    private byte[]? _leftover;
    private bool _loopStarted;
    private bool _dropped;
    private bool _completed;
    private bool _closeSent;
    private bool _writerDisposed;
    private Task? _closeTask;
    private Channel<WsMessage>? _inbox;
    private WsMessage? _undeliveredTerminal;
    private IDisposable? _heartbeatTimer;
    private IDisposable? _pongTimer;
    private IDisposable? _receiveTimer;
    private int? _closeCode;
    private Exception? _exception;

    internal ClientWebSocket(Url url, Stream stream, Socket? socket, byte[] leftover, string? protocol, WsDeflateOptions? deflate,
        int status, HeaderCollection responseHeaders, WsConnectOptions options, IScheduler scheduler, TimeSpan ceilThreshold,
        Func<object?, string> jsonSerialize)
    {
        Url = url;
        _stream = stream;
        _socket = socket;
        _leftover = leftover;
        Protocol = protocol;
        Status = status;
        ResponseHeaders = responseHeaders;
        Compress = deflate is not null;
        _options = options;
        _scheduler = scheduler;
        _virtualClock = Transport.TimerWheel.IsVirtualTime(scheduler);
        _loopDone = new TaskCompletionSource(_virtualClock ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        _ceilThreshold = ceilThreshold;
        _jsonSerialize = jsonSerialize;
        _reader = new WsFrameReader(options.MaxMsgSize, deflate?.CreateInflater());
        _writer = new WsFrameWriter(deflate?.CreateDeflater(), options.MaxFrameSize);
        Messages = Observable.Create<WsMessage>(observer =>
        {
            IDisposable subscription;
            lock (_emitGate) subscription = _subject.Subscribe(observer);
            EnsureReading();
            return subscription;
        });
        ResetHeartbeat();
        _metrics = WebSocketMetrics.Open(url);
    }

    private readonly WebSocketMetrics? _metrics; // null unless a listener was on when it opened

    /// <summary>The URL the handshake went to.</summary>
    public Url Url { get; }

    /// <summary>The handshake's status (101).</summary>
    public int Status { get; }

    /// <summary>The handshake's response headers.</summary>
    public HeaderCollection ResponseHeaders { get; }

    /// <summary>The subprotocol the server chose, or null.</summary>
    public string? Protocol { get; }

    /// <summary>True when permessage-deflate was negotiated.</summary>
    public bool Compress { get; }

    /// <summary>
    /// Every received message, <b>hot</b>: one receive loop shared by all subscribers. TEXT and BINARY messages (and
    /// PING/PONG when <see cref="WsConnectOptions.Autoping"/> is off), then the server's CLOSE followed by completion;
    /// or CLOSED and completion when the close handshake timed out or the websocket was disposed; or an ERROR message
    /// followed by <c>OnError</c> with the same exception when the connection failed (protocol error, timeout, lost
    /// connection). A subscriber arriving after the end gets the end at once.
    /// </summary>
    public IObservable<WsMessage> Messages { get; }

    /// <summary>True once the socket is closed (or dropped).</summary>
    public bool Closed { get { lock (_gate) return _dropped; } }

    /// <summary>
    /// The close code: the server's (1005 when its CLOSE carried none), the one sent when failing a protocol
    /// violation, 1006 for a lost connection or a timeout; null while open.
    /// </summary>
    public int? CloseCode { get { lock (_gate) return _closeCode; } }

    /// <summary>Why the connection failed, or null.</summary>
    public Exception? Exception { get { lock (_gate) return _exception; } }

    /// <summary>One value, then completion, when the socket is closed.</summary>
    public IObservable<Unit> WhenClosed => _whenClosed.AsObservable();

    // ---- receiving ----

    /// <summary>
    /// The next message (aiohttp's <c>receive()</c>), cold: each subscription takes one message from this socket's
    /// queue, so successive calls never lose one. Like aiohttp it yields CLOSE and ERROR messages, then CLOSED forever.
    /// </summary>
    public IObservable<WsMessage> Receive() => RxAsync.FromAsync(ReceiveAsync);

    /// <summary>Task form of <see cref="Receive"/>.</summary>
    public async Task<WsMessage> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        var inbox = EnsureInbox();
        while (await inbox.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            if (inbox.Reader.TryRead(out var message)) return message;
        lock (_emitGate)
        {
            var terminal = _undeliveredTerminal;
            _undeliveredTerminal = null;
            return terminal ?? WsMessage.ClosedMessage;
        }
    }

    /// <summary>
    /// The messages as an async sequence (aiohttp's <c>async for msg in ws</c>): data messages (and PING/PONG with
    /// autoping off) until the server's CLOSE or a local close, which end the loop; a failure is thrown as its exception.
    /// </summary>
    public async IAsyncEnumerable<WsMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var message = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (message.Type is WsMsgType.Close or WsMsgType.Closing or WsMsgType.Closed) yield break;
            if (message.Type == WsMsgType.Error) throw message.Exception!;
            yield return message;
        }
    }

    /// <inheritdoc/>
    public IAsyncEnumerator<WsMessage> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    // ---- sending ----

    /// <summary>Sends a TEXT message. Cold: sent once per subscription.</summary>
    /// <param name="text">The text.</param>
    /// <param name="compress">Compress this message; null = whenever permessage-deflate was negotiated.</param>
    public IObservable<Unit> SendStr(string text, bool? compress = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        CheckCompress(compress);
        return Send(WsMsgType.Text, Encoding.UTF8.GetBytes(text), compress);
    }

    /// <summary>Sends a BINARY message. Cold: sent once per subscription. The bytes are not copied; do not change them until it completes.</summary>
    public IObservable<Unit> SendBytes(ReadOnlyMemory<byte> data, bool? compress = null)
    {
        CheckCompress(compress);
        return Send(WsMsgType.Binary, data, compress);
    }

    /// <summary>Sends <paramref name="value"/> as a TEXT message of JSON, with the session's serializer.</summary>
    public IObservable<Unit> SendJson(object? value, bool? compress = null) =>
        Observable.Defer(() => SendStr(_jsonSerialize(value), compress));

    /// <summary>Sends <paramref name="value"/> as a TEXT message of JSON with source-generated metadata (trim- and NativeAOT-safe).</summary>
    public IObservable<Unit> SendJson<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, bool? compress = null)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return Observable.Defer(() =>
        {
            CheckCompress(compress);
            return Send(WsMsgType.Text, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), compress);
        });
    }

    /// <summary>Sends a PING (payload up to 125 bytes).</summary>
    public IObservable<Unit> Ping(ReadOnlyMemory<byte> data = default) => Send(WsMsgType.Ping, CheckControl(data), false);

    /// <summary>Sends an unsolicited PONG (payload up to 125 bytes).</summary>
    public IObservable<Unit> Pong(ReadOnlyMemory<byte> data = default) => Send(WsMsgType.Pong, CheckControl(data), false);

    /// <summary>
    /// Starts the closing handshake: sends CLOSE, waits up to <see cref="WsTimeout.WsClose"/> for the server's CLOSE
    /// (reading and delivering messages meanwhile), then closes the socket. Cold and idempotent: every subscription
    /// shares the one close and completes when the socket is closed; after a timeout <see cref="CloseCode"/> is 1006.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A code that may not be sent (RFC 6455 7.4) or a reason over 123 UTF-8 bytes.</exception>
    public IObservable<Unit> Close(int code = (int)WsCloseCode.Ok, string? message = null)
    {
        var payload = WsFrameWriter.BuildClosePayload(code, message);
        // Completes where the close ends (Task.ToObservable would hop to the thread pool, after a test's AdvanceBy).
        return RxAsync.FromAsync(_ => CloseUnitAsync(payload));
    }

    private async Task<Unit> CloseUnitAsync(byte[] payload)
    {
        await CloseTask(payload).ConfigureAwait(false);
        return Unit.Default;
    }

    /// <summary>Same as <see cref="Close(int, string?)"/> with a named code.</summary>
    public IObservable<Unit> Close(WsCloseCode code, string? message = null) => Close((int)code, message);

    /// <summary>Closes the websocket: starts the closing handshake in the background (its outcome lands in <see cref="CloseCode"/>).</summary>
    public void Dispose() => ObserveFault(CloseTask(WsFrameWriter.BuildClosePayload((int)WsCloseCode.Ok)));

    /// <summary>Closes the websocket and waits for the closing handshake to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseTask(WsFrameWriter.BuildClosePayload((int)WsCloseCode.Ok)).ConfigureAwait(false);
        }
        catch (ClientError)
        {
            // Closing a websocket that already failed has nothing more to report than Exception says.
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"<ClientWebSocket({Url}) {(Closed ? $"closed {CloseCode}" : "open")}>";

    // ---- internals ----

    private static ReadOnlyMemory<byte> CheckControl(ReadOnlyMemory<byte> data)
    {
        if (data.Length > WsFrameWriter.MaxControlPayload)
            throw new ArgumentException($"A control frame payload is limited to {WsFrameWriter.MaxControlPayload} bytes, got {data.Length}.", nameof(data));
        return data;
    }

    private void CheckCompress(bool? compress)
    {
        if (compress == true && !Compress) throw new ArgumentException("permessage-deflate was not negotiated on this websocket.", nameof(compress));
    }

    private IObservable<Unit> Send(WsMsgType type, ReadOnlyMemory<byte> payload, bool? compress) =>
        RxAsync.FromAsync(async ct =>
        {
            await SendFrameAsync(type, payload, compress, ct).ConfigureAwait(false);
            return Unit.Default;
        });

    /// <summary>
    /// Writes one message. The token only cancels waiting for the send lock: a frame, once started, is finished,
    /// because a half-written frame would corrupt the stream for every later message.
    /// </summary>
    private async Task SendFrameAsync(WsMsgType type, ReadOnlyMemory<byte> payload, bool? compress, CancellationToken ct, bool isClose = false, bool? fin = null)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_writerDisposed || _closeSent)
                throw new WsConnectionError(_closeSent ? "Cannot send: the websocket is closing." : "Cannot send: the websocket is closed.");
            TrackFragments(type, fin); // SendFrame's fragmented messages (ClientWebSocket.Frames.cs)
            if (isClose) _closeSent = true;
            if (fin is { } last) await _writer.SendFrameAsync(_stream, last, type, payload, CancellationToken.None).ConfigureAwait(false);
            else await _writer.SendAsync(_stream, type, payload, compress, CancellationToken.None).ConfigureAwait(false);
            // A data message counts once, with its first frame (a fragmented one's later frames are CONTINUATIONs).
            _metrics?.Sent(type);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw new WsConnectionError("Cannot send: " + e.Message, e);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task DisposeWriterAsync()
    {
        await _sendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _writerDisposed = true;
            _writer.Dispose();
        }
        finally
        {
            _sendLock.Release();
        }
    }

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
            ArmReceiveTimer();
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
                ResetHeartbeat();
            }
        }
        catch (WebSocketProtocolException e)
        {
            // RFC 6455 7.1.7 "fail the connection": a CLOSE with the reason's code, then drop without waiting.
            lock (_gate) _closeCode ??= (int)e.CloseCode;
            try
            {
                using var cts = new CancellationTokenSource();
                await SendFrameAsync(WsMsgType.Close, WsFrameWriter.BuildClosePayload((int)e.CloseCode), false, cts.Token, isClose: true).ConfigureAwait(false);
            }
            catch (ClientError)
            {
                // The peer may already be gone; the close code still says why we failed.
            }
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
        ArmReceiveTimer();
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
                bool weClosed;
                lock (_gate)
                {
                    _closeCode = message.CloseCode ?? (int)WsCloseCode.NoStatusReceived;
                    weClosed = _closeSent || _closeTask is not null;
                }
                if (!weClosed && _options.Autoclose)
                {
                    // Echo the server's code, as RFC 6455 5.5.1 suggests; an empty CLOSE is answered with an empty one.
                    var payload = message.CloseCode is { } code ? WsFrameWriter.BuildClosePayload(code) : Array.Empty<byte>();
                    try
                    {
                        await SendFrameAsync(WsMsgType.Close, payload, false, ct, isClose: true).ConfigureAwait(false);
                    }
                    catch (WsConnectionError)
                    {
                        // Nothing to answer on; the socket goes anyway.
                    }
                }
                if (weClosed || _options.Autoclose) Drop();
                Finish(message, null);
                return false;
            default:
                _metrics?.Received(message.Type);
                Deliver(message);
                if (Volatile.Read(ref _inbox) is { } inbox) await inbox.Writer.WriteAsync(message, ct).ConfigureAwait(false);
                return true;
        }
    }

    private void Deliver(WsMessage message)
    {
        lock (_emitGate)
        {
            if (_completed) return;
            _subject.OnNext(message);
        }
    }

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
    private void Drop()
    {
        bool disposeReader;
        lock (_gate)
        {
            if (_dropped) return;
            _dropped = true;
            disposeReader = !_loopStarted;
            _heartbeatTimer?.Dispose();
            _pongTimer?.Dispose();
            _receiveTimer?.Dispose();
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
        if (!_virtualClock) await Task.Yield();
        bool peerClosed;
        lock (_gate) peerClosed = _closeCode is not null && !_dropped;
        try
        {
            await SendFrameAsync(WsMsgType.Close, payload, false, CancellationToken.None, isClose: true).ConfigureAwait(false);
        }
        catch (WsConnectionError)
        {
            // Cannot send (already closing, or the socket died): nothing to wait for.
            peerClosed = true;
        }
        if (peerClosed)
        {
            // autoclose off: the server's CLOSE was delivered already, ours answers it.
            Drop();
            Finish(WsMessage.ClosedMessage, null);
            return;
        }
        EnsureReading();
        IDisposable? timer = null;
        var timedOut = new TaskCompletionSource(_virtualClock ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        if (ClientTimeout.Active(_options.Timeout.WsClose) is { } wait)
            timer = _scheduler.Schedule(wait, () => timedOut.TrySetResult());
        var first = await Task.WhenAny(_loopDone.Task, timedOut.Task).ConfigureAwait(false);
        timer?.Dispose();
        if (first == timedOut.Task)
        {
            lock (_gate) _closeCode = (int)WsCloseCode.AbnormalClosure;
            Drop();
            Finish(WsMessage.ClosedMessage, null);
            return;
        }
        Drop();
        Finish(WsMessage.ClosedMessage, null);
    }

    // ---- timers (all on WsConnectOptions.Scheduler, else the session's) ----

    /// <summary>aiohttp's heartbeat: any inbound data restarts the wait; when it runs out a PING goes and half the heartbeat is left for an answer.</summary>
    private void ResetHeartbeat()
    {
        if (ClientTimeout.Active(_options.Heartbeat) is not { } heartbeat) return;
        lock (_gate)
        {
            if (_dropped) return;
            _pongTimer?.Dispose();
            _pongTimer = null;
            _heartbeatTimer?.Dispose();
            _heartbeatTimer = _scheduler.Schedule(Ceiling.Deadline(_scheduler.Now, heartbeat, _ceilThreshold), () => SendHeartbeat(heartbeat));
        }
    }

    private void SendHeartbeat(TimeSpan heartbeat)
    {
        lock (_gate)
        {
            if (_dropped) return;
            _pongTimer?.Dispose();
            _pongTimer = _scheduler.Schedule(Ceiling.Deadline(_scheduler.Now, heartbeat / 2, _ceilThreshold), () =>
                Fail(new ServerTimeoutError($"No data received within {(heartbeat / 2).TotalSeconds:0.###} s after a heartbeat PING"), (int)WsCloseCode.AbnormalClosure));
        }
        ObserveFault(SendFrameAsync(WsMsgType.Ping, ReadOnlyMemory<byte>.Empty, false, CancellationToken.None));
    }

    private void ArmReceiveTimer()
    {
        if (ClientTimeout.Active(_options.Timeout.WsReceive) is not { } wait) return;
        lock (_gate)
        {
            if (_dropped) return;
            _receiveTimer?.Dispose();
            _receiveTimer = _scheduler.Schedule(wait, () =>
                Fail(new ServerTimeoutError($"No message received within {wait.TotalSeconds:0.###} s"), (int)WsCloseCode.AbnormalClosure));
        }
    }

    private static void ObserveFault(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
