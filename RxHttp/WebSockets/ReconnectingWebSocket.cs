using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Text.Json.Serialization.Metadata;
using RxHttp.WebSockets;

namespace RxHttp;

/// <summary>
/// A websocket that reconnects when its connection is lost, with exponential backoff and jitter on the websocket's
/// clock (<see cref="WsConnectOptions.Scheduler"/>, else the session's scheduler; what Websocket.Client users rely on). <see cref="Messages"/> is hot and spans reconnections: it carries
/// every message of whichever socket is current, and completes only when the wrapper is disposed or its session is
/// closed (or fails when
/// <see cref="ReconnectOptions.MaxAttempts"/> is exhausted). Sends wait in a bounded, ordered queue
/// (<see cref="ReconnectOptions.SendQueueLimit"/>) that survives reconnections, and complete when their frame is
/// written; disposing a waiting send's subscription takes it out of the queue.
/// </summary>
/// <remarks>
/// Each (re)connection runs <see cref="ReconnectOptions.OnConnected"/> first, then <see cref="Reconnected"/> fires,
/// then the queued sends are written. A lost connection or a failed attempt is reconnected after the backoff; the
/// silence watchdog (<see cref="ReconnectOptions.NoMessageTimeout"/>) and <see cref="Reconnect"/> reconnect at once.
/// </remarks>
public sealed class ReconnectingWebSocket : IAsyncDisposable, IDisposable
{
    private readonly ClientSession _session;
    private readonly Url _url;
    private readonly WsConnectOptions? _options;
    private readonly ReconnectOptions _reconnect;
    private readonly IScheduler _scheduler;
    private readonly WsSendQueue _queue;
    private readonly ISubject<WsMessage> _messages = Subject.Synchronize(new Subject<WsMessage>());
    private readonly ISubject<ReconnectionInfo> _reconnected = Subject.Synchronize(new Subject<ReconnectionInfo>());
    private readonly ISubject<DisconnectionInfo> _disconnected = Subject.Synchronize(new Subject<DisconnectionInfo>());
    private readonly object _gate = new();

    // Every callback carries the generation it was made for; a newer generation (a loss, a reconnect, disposal)
    // makes the callbacks of an older connection do nothing.
    private int _generation;
    private bool _started;
    private bool _disposed;
    private bool _gaveUp;
    private ClientWebSocket? _socket;   // open, OnConnected perhaps still running
    private ClientWebSocket? _current;  // ready: Reconnected fired
    // What the current generation holds; Disconnect takes them all and disposes them outside the lock.
    private IDisposable? _attempt;   // the WsConnect subscription: disposing it closes the socket
    private IDisposable? _receiving; // the socket's Messages
    private IDisposable? _hook;      // OnConnected's subscription
    private Transport.IdleDeadline? _watchdog; // NoMessageTimeout: each message touches it
    private IDisposable? _wait;      // the backoff wait
    private IDisposable? _sessionEnd; // the session's WhenClosed, which ends the wrapper
    private int _failures; // consecutive failed attempts, for MaxAttempts
    private int _waits;    // waits in the current streak, for the backoff
    private ReconnectionType _nextType = ReconnectionType.Initial;

    internal ReconnectingWebSocket(ClientSession session, Url url, WsConnectOptions? options, ReconnectOptions reconnect)
    {
        _session = session;
        _url = url;
        _options = options;
        _reconnect = reconnect;
        // The sockets' own timers run on WsConnectOptions.Scheduler; the backoff and the watchdog between them must
        // too, or a test driving that clock sees the heartbeat fire but waits for reconnections on the real one.
        _scheduler = options?.Scheduler ?? session.Scheduler;
        _queue = new WsSendQueue(reconnect.SendQueueLimit, reconnect.SendQueueFullMode);
    }

    /// <summary>Every message of the current socket, across reconnections (hot; subscribe before <see cref="Start"/> to miss nothing).</summary>
    public IObservable<WsMessage> Messages => _messages.AsObservable();

    /// <summary>Each (re)connection, once <see cref="ReconnectOptions.OnConnected"/> has completed on it.</summary>
    public IObservable<ReconnectionInfo> Reconnected => _reconnected.AsObservable();

    /// <summary>Each lost connection and each failed attempt, with why.</summary>
    public IObservable<DisconnectionInfo> Disconnected => _disconnected.AsObservable();

    /// <summary>The socket in use (past <see cref="ReconnectOptions.OnConnected"/>), or null between connections.</summary>
    public ClientWebSocket? Current { get { lock (_gate) return _current; } }

    /// <summary>Sends waiting for a connection (not counting one being written).</summary>
    public int QueuedSends => _queue.Count;

    /// <summary>Starts connecting (once; later calls do nothing).</summary>
    /// <exception cref="ObjectDisposedException">The wrapper was disposed.</exception>
    public ReconnectingWebSocket Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started) return this;
            _started = true;
        }
        // Inline when the session is closed already, which ends the wrapper before Connect.
        IDisposable? sessionEnd = _session.WhenClosed.Subscribe(_ => SessionClosed());
        lock (_gate)
        {
            if (!_disposed)
            {
                _sessionEnd = sessionEnd;
                sessionEnd = null;
            }
        }
        sessionEnd?.Dispose();
        Connect();
        return this;
    }

    /// <summary>
    /// Closes the current connection (or cuts short a backoff wait) and connects again at once:
    /// <see cref="DisconnectionType.ByUser"/>, then <see cref="ReconnectionType.ByUser"/>. Queued sends wait for the new connection.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not started yet.</exception>
    /// <exception cref="ObjectDisposedException">The wrapper was disposed.</exception>
    public void Reconnect()
    {
        int generation;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_started) throw new InvalidOperationException("Call Start() before Reconnect().");
            if (_gaveUp) throw new InvalidOperationException("The websocket gave up after MaxAttempts failed attempts; create a new one.");
            generation = _generation;
        }
        Disconnect(generation, DisconnectionType.ByUser, null, reconnectAtOnce: true, countsAsFailure: false);
    }

    /// <summary>Queues a TEXT message; completes when it is written to a socket.</summary>
    public IObservable<Unit> SendStr(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _queue.Enqueue(() => text, default);
    }

    /// <summary>Queues a BINARY message; completes when it is written. The bytes are not copied; do not change them until then.</summary>
    public IObservable<Unit> SendBytes(ReadOnlyMemory<byte> data) => _queue.Enqueue(static () => null, data);

    /// <summary>Queues a value as JSON text (serialized on subscription with the session's serializer).</summary>
    public IObservable<Unit> SendJson(object? value) => _queue.Enqueue(() => _session.SerializeJson(value), default);

    /// <summary>Queues a value as JSON text with source-generated metadata (trim- and NativeAOT-safe).</summary>
    public IObservable<Unit> SendJson<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return _queue.Enqueue(() => System.Text.Json.JsonSerializer.Serialize(value, typeInfo), default);
    }

    /// <summary>
    /// Stops reconnecting, fails the sends still queued (<see cref="WsConnectionError"/>) and closes the current
    /// socket with the closing handshake; <see cref="Messages"/>, <see cref="Reconnected"/> and <see cref="Disconnected"/> complete.
    /// </summary>
    public ValueTask DisposeAsync() =>
        EndAsync(new WsConnectionError("The reconnecting websocket was closed before this message was sent."));

    // Disposal, or the session's end: no more connections, the queue fails with queueError, the streams complete.
    private async ValueTask EndAsync(Exception queueError)
    {
        ClientWebSocket? socket;
        IDisposable? attempt, others, sessionEnd;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            (socket, attempt, others) = EndGeneration();
            sessionEnd = _sessionEnd;
            _sessionEnd = null;
        }
        sessionEnd?.Dispose();
        others.Dispose();
        _queue.Close(queueError);
        if (socket is not null) await socket.DisposeAsync().ConfigureAwait(false);
        attempt?.Dispose();
        if (socket is not null) _disconnected.OnNext(new DisconnectionInfo(socket.CloseCode, null, DisconnectionType.Exit));
        _messages.OnCompleted();
        _reconnected.OnCompleted();
        _disconnected.OnCompleted();
    }

    // A closed session refuses every handshake (SessionClosedError) and aborts its websockets: left alone, the wrapper
    // retried it for good, every MaxDelay, with its sends waiting and its streams never ending.
    private void SessionClosed() =>
        _ = EndAsync(new SessionClosedError("The session was closed before this message was sent.")).AsTask()
            .ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);

    /// <summary>Same as <see cref="DisposeAsync"/>, without waiting for the closing handshake.</summary>
    public void Dispose() => _ = DisposeAsync().AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);

    // ---- the connection's life, each step for one generation ----

    private void Connect()
    {
        int generation;
        lock (_gate)
        {
            if (_disposed) return;
            generation = ++_generation;
        }
        var attempt = new SingleAssignmentDisposable();
        if (!Keep(generation, ref _attempt, attempt)) return;
        attempt.Disposable = _session.WsConnect(_url, _options).Subscribe(
            ws => Opened(generation, ws),
            e => Disconnect(generation, DisconnectionType.Error, e, reconnectAtOnce: false, countsAsFailure: true));
    }

    private void Opened(int generation, ClientWebSocket ws)
    {
        lock (_gate)
        {
            if (generation != _generation) return; // superseded: disposing the attempt closes ws
            _socket = ws;
        }
        // Reading starts now, so a reply to what OnConnected sends is delivered too. A socket that ends at once
        // (inline, on a scripted connection) has already been replaced when Subscribe returns.
        var receiving = ws.Messages.Subscribe(m => Received(generation, m), e => Lost(generation, ws, e), () => Lost(generation, ws, null));
        if (!Keep(generation, ref _receiving, receiving)) return;
        StartWatchdog(generation);
        if (_reconnect.OnConnected is not { } hook)
        {
            Ready(generation, ws);
            return;
        }
        IObservable<Unit> prepare;
        try
        {
            prepare = hook(ws) ?? throw new InvalidOperationException("ReconnectOptions.OnConnected returned null instead of an observable.");
        }
        catch (Exception e)
        {
            Disconnect(generation, DisconnectionType.Error, e, reconnectAtOnce: false, countsAsFailure: true);
            return;
        }
        var running = new SingleAssignmentDisposable();
        if (!Keep(generation, ref _hook, running)) return;
        running.Disposable = prepare.Subscribe(_ => { }, e => Disconnect(generation, DisconnectionType.Error, e, reconnectAtOnce: false, countsAsFailure: true),
            () => Ready(generation, ws));
    }

    private void Ready(int generation, ClientWebSocket ws)
    {
        ReconnectionInfo info;
        lock (_gate)
        {
            if (generation != _generation) return;
            _current = ws;
            info = new ReconnectionInfo(ws, _nextType, _failures + 1);
            _failures = _waits = 0;
        }
        _reconnected.OnNext(info);
        lock (_gate)
            if (generation == _generation) _queue.SetTarget(ws);
        _queue.Pump();
    }

    private void Received(int generation, WsMessage message)
    {
        lock (_gate)
        {
            if (generation != _generation) return;
            _watchdog?.Touch();
        }
        _messages.OnNext(message);
    }

    private void Lost(int generation, ClientWebSocket ws, Exception? error)
    {
        var byServer = error is null && ws.CloseCode is { } code && code != (int)WsCloseCode.AbnormalClosure;
        Disconnect(generation, byServer ? DisconnectionType.ByServer : DisconnectionType.Lost, error ?? ws.Exception, reconnectAtOnce: false, countsAsFailure: false);
    }

    // The watchdog fires when the last message is NoMessageTimeout old; each message only touches it, so a busy
    // socket costs no timer per message.
    private void StartWatchdog(int generation)
    {
        if (_reconnect.NoMessageTimeout is not { } silence) return;
        var watchdog = new Transport.IdleDeadline(_scheduler, silence, TimeSpan.MaxValue,
            () => Disconnect(generation, DisconnectionType.NoMessageReceived, null, reconnectAtOnce: true, countsAsFailure: false));
        lock (_gate)
        {
            if (generation != _generation || _disposed) return;
            _watchdog = watchdog;
            // Started under the lock, so this generation's messages touch it only once it is running.
            watchdog.Start();
        }
    }

    /// <summary>Ends generation <paramref name="generation"/> (closing its socket) and reconnects at once or after the backoff.</summary>
    private void Disconnect(int generation, DisconnectionType type, Exception? error, bool reconnectAtOnce, bool countsAsFailure)
    {
        ClientWebSocket? socket;
        IDisposable? attempt, others;
        int failures;
        // The session's end aborts its websockets before WhenClosed fires: that loss ends the wrapper, not a backoff.
        if (_session.Closed)
        {
            SessionClosed();
            return;
        }
        lock (_gate)
        {
            if (generation != _generation || _disposed) return;
            (socket, attempt, others) = EndGeneration();
            if (countsAsFailure) failures = ++_failures;
            else failures = _failures;
            _nextType = type switch
            {
                DisconnectionType.Error when _nextType == ReconnectionType.Initial => ReconnectionType.Error,
                DisconnectionType.Error => _nextType, // failed attempts keep the cause of the loss they recover from
                DisconnectionType.ByServer => ReconnectionType.ByServer,
                DisconnectionType.NoMessageReceived => ReconnectionType.NoMessageReceived,
                DisconnectionType.ByUser => ReconnectionType.ByUser,
                _ => ReconnectionType.Lost,
            };
        }
        others.Dispose();
        attempt?.Dispose(); // closes the socket (a closing handshake in the background) or abandons the handshake
        if (socket is not null || error is not null)
            _disconnected.OnNext(new DisconnectionInfo(socket?.CloseCode, error, type));

        if (countsAsFailure && _reconnect.MaxAttempts is { } max && failures >= max)
        {
            lock (_gate) _gaveUp = true;
            var gaveUp = new WsConnectionError($"Gave up connecting to {_url} after {failures} failed attempt(s).", error);
            _queue.Close(gaveUp);
            _messages.OnError(gaveUp);
            return;
        }
        if (reconnectAtOnce)
        {
            Connect();
            return;
        }
        TimeSpan delay;
        int waitGeneration;
        lock (_gate)
        {
            if (_disposed) return;
            delay = _reconnect.DelayFor(++_waits);
            waitGeneration = _generation;
        }
        // Through the wheel: a backoff past ~49.7 days (MaxDelay = TimeSpan.MaxValue after enough losses) is longer
        // than Scheduler.Default takes whole, and the throw would be lost on the close callback's thread.
        Keep(waitGeneration, ref _wait, Transport.TimerWheel.After(_scheduler, delay, () =>
        {
            lock (_gate)
                if (waitGeneration != _generation) return;
            Connect();
        }));
    }

    /// <summary>Stores <paramref name="resource"/> for <paramref name="generation"/>, or disposes it when that generation is over.</summary>
    private bool Keep(int generation, ref IDisposable? slot, IDisposable resource)
    {
        IDisposable? previous = null;
        var kept = false;
        lock (_gate)
        {
            if (generation == _generation && !_disposed)
            {
                previous = slot;
                slot = resource;
                kept = true;
            }
        }
        previous?.Dispose();
        if (!kept) resource.Dispose();
        return kept;
    }

    /// <summary>Under the lock: starts a new generation and hands back what the old one held, to dispose outside the lock.</summary>
    private (ClientWebSocket? Socket, IDisposable? Attempt, IDisposable Others) EndGeneration()
    {
        _generation++;
        var socket = _socket;
        _socket = _current = null;
        _queue.SetTarget(null);
        var others = new CompositeDisposable(new[] { _wait, _watchdog, _hook, _receiving }.OfType<IDisposable>());
        var attempt = _attempt;
        _attempt = _wait = _hook = _receiving = null;
        _watchdog = null;
        return (socket, attempt, others);
    }
}

public sealed partial class ClientSession
{
    /// <summary>
    /// A websocket to <paramref name="url"/> that reconnects on loss with exponential backoff and jitter, queues
    /// sends across reconnections and can watch for silence (all on <see cref="WsConnectOptions.Scheduler"/>, else this
    /// session's scheduler). Subscribe to its
    /// streams, then call <see cref="ReconnectingWebSocket.Start"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option of <paramref name="reconnect"/> is out of range (checked here, not on the first reconnection).</exception>
    public ReconnectingWebSocket WsReconnecting(Url url, WsConnectOptions? options = null, ReconnectOptions? reconnect = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        reconnect ??= new ReconnectOptions();
        reconnect.Validate();
        return new ReconnectingWebSocket(this, url, options, reconnect);
    }

    internal string SerializeJson(object? value) => _jsonSerialize(value);
}
