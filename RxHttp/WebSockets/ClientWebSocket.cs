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
    private readonly Transport.TimerWheel _wheel;
    private readonly TimeSpan _ceilThreshold;
    private readonly WsConnectOptions _options;
    private readonly Func<object?, string> _jsonSerialize;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _loopCts = new();
    // Cancelled when our closing handshake starts: from then on a full inbox no longer holds the read loop back.
    private readonly CancellationTokenSource _closing = new();
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
    private readonly Transport.IdleDeadline? _heartbeat;
    private IDisposable? _pongTimer;
    private readonly Transport.IdleDeadline? _receiveDeadline;
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
        _wheel = Transport.TimerWheel.For(scheduler);
        _virtualClock = Transport.TimerWheel.IsVirtualTime(scheduler);
        _loopDone = new TaskCompletionSource(_virtualClock ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        _ceilThreshold = ceilThreshold;
        _jsonSerialize = jsonSerialize;
        _reader = new WsFrameReader(options.MaxMsgSize, deflate?.CreateInflater());
        _writer = new WsFrameWriter(deflate?.CreateDeflater(), options.MaxFrameSize);
        Messages = Observable.Create<WsMessage>(observer =>
        {
            // Not under _emitGate: the subject takes subscribers safely beside a delivery, and a subscriber waiting in
            // OnNext (under that gate) for a thread that subscribes here would otherwise wait for good.
            var subscription = _subject.Subscribe(observer);
            EnsureReading();
            return subscription;
        });
        _receiveDeadline = CreateReceiveDeadline();
        _heartbeat = StartHeartbeat();
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
    /// <exception cref="ArgumentException"><paramref name="text"/> has a lone surrogate, which UTF-8 cannot encode.</exception>
    /// <param name="compress">Compress this message; null = whenever permessage-deflate was negotiated.</param>
    public IObservable<Unit> SendStr(string text, bool? compress = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        CheckCompress(compress);
        return Send(WsMsgType.Text, StrictEncodings.Utf8Bytes(text, nameof(text)), compress);
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
    /// shares the one close and completes when the socket is closed; after a timeout <see cref="CloseCode"/> is 1006,
    /// unless the server's CLOSE came meanwhile.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A code that may not be sent (RFC 6455 7.4) or a reason over 123 UTF-8 bytes.</exception>
    /// <exception cref="ArgumentException">A reason with a lone surrogate, which UTF-8 cannot encode.</exception>
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

    /// <summary>Bytes the send side holds between sends (tests).</summary>
    internal int HeldSendBytes => _writer.HeldBytes;

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
}
