using System.Reactive;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Reactive.Threading.Tasks;

namespace RxHttp;

/// <summary>Backoff between reconnection attempts of a <see cref="ReconnectingWebSocket"/>.</summary>
public sealed record ReconnectOptions
{
    /// <summary>The wait before the first reconnection attempt (default 1 s).</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between attempts (default 30 s).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Each failed attempt multiplies the wait by this (default 2).</summary>
    public double Factor { get; init; } = 2;

    /// <summary>Consecutive failed attempts after which the wrapper gives up and fails <see cref="ReconnectingWebSocket.Messages"/>; null retries forever.</summary>
    public int? MaxAttempts { get; init; }

    // The wait before retry number <paramref name="retry"/> (1-based) of a streak.
    internal TimeSpan DelayFor(int retry)
    {
        var ticks = InitialDelay.Ticks * Math.Pow(Factor, Math.Max(0, retry - 1));
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>Why a <see cref="ReconnectingWebSocket"/> connected.</summary>
public enum ReconnectionType
{
    /// <summary>The first connection.</summary>
    Initial,
    /// <summary>A connection after the previous one was lost or refused.</summary>
    Lost,
}

/// <summary>A (re)connection: the new socket, why, and how many attempts it took since the last success.</summary>
/// <param name="Socket">The websocket now in use.</param>
/// <param name="Type">Initial or after a loss.</param>
/// <param name="Attempts">Attempts it took (1 when the first try worked).</param>
public sealed record ReconnectionInfo(ClientWebSocket Socket, ReconnectionType Type, int Attempts);

/// <summary>A loss: the close code when the socket had one, and the error when there was one.</summary>
/// <param name="CloseCode">The websocket's close code, null when it never opened.</param>
/// <param name="Exception">What failed, or null for a clean close by the server.</param>
public sealed record DisconnectionInfo(int? CloseCode, Exception? Exception);

/// <summary>
/// A websocket that reconnects when its connection is lost, with exponential backoff on the session's scheduler
/// (what Websocket.Client users rely on). <see cref="Messages"/> is hot and spans reconnections: it carries every
/// message of whichever socket is current, and completes only when the wrapper is closed (or fails when
/// <see cref="ReconnectOptions.MaxAttempts"/> is exhausted). Messages sent while disconnected fail with
/// <see cref="WsConnectionError"/>; nothing is queued.
/// </summary>
public sealed class ReconnectingWebSocket : IAsyncDisposable, IDisposable
{
    private readonly ClientSession _session;
    private readonly Url _url;
    private readonly WsConnectOptions? _options;
    private readonly ReconnectOptions _reconnect;
    private readonly Subject<WsMessage> _messages = new();
    private readonly Subject<ReconnectionInfo> _reconnected = new();
    private readonly Subject<DisconnectionInfo> _disconnected = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private ClientWebSocket? _current;
    private Task? _loop;

    internal ReconnectingWebSocket(ClientSession session, Url url, WsConnectOptions? options, ReconnectOptions reconnect)
    {
        _session = session;
        _url = url;
        _options = options;
        _reconnect = reconnect;
    }

    /// <summary>Every message of the current socket, across reconnections (hot; subscribe before <see cref="Start"/> to miss nothing).</summary>
    public IObservable<WsMessage> Messages => _messages.AsObservable();

    /// <summary>Each successful (re)connection.</summary>
    public IObservable<ReconnectionInfo> Reconnected => _reconnected.AsObservable();

    /// <summary>Each lost connection and each failed attempt.</summary>
    public IObservable<DisconnectionInfo> Disconnected => _disconnected.AsObservable();

    /// <summary>The socket in use, or null between connections.</summary>
    public ClientWebSocket? Current { get { lock (_gate) return _current; } }

    /// <summary>Starts connecting (once; later calls do nothing).</summary>
    public ReconnectingWebSocket Start()
    {
        lock (_gate)
        {
            if (_loop is not null) return this;
            _loop = RunAsync(_stop.Token);
        }
        return this;
    }

    /// <summary>Sends text on the current socket.</summary>
    public IObservable<Unit> SendStr(string text) => Observable.Defer(() => CurrentOrThrow().SendStr(text));

    /// <summary>Sends bytes on the current socket.</summary>
    public IObservable<Unit> SendBytes(ReadOnlyMemory<byte> data) => Observable.Defer(() => CurrentOrThrow().SendBytes(data));

    /// <summary>Sends a value as JSON text on the current socket.</summary>
    public IObservable<Unit> SendJson(object? value) => Observable.Defer(() => CurrentOrThrow().SendJson(value));

    /// <summary>Sends a value as JSON text on the current socket, with source-generated metadata (trim- and NativeAOT-safe).</summary>
    public IObservable<Unit> SendJson<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        Observable.Defer(() => CurrentOrThrow().SendJson(value, typeInfo));

    /// <summary>Stops reconnecting and closes the current socket; <see cref="Messages"/> completes.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? loop;
        ClientWebSocket? current;
        lock (_gate)
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            loop = _loop;
            current = _current;
        }
        if (current is not null) await current.DisposeAsync().ConfigureAwait(false);
        if (loop is not null) await loop.ConfigureAwait(false);
        _messages.OnCompleted();
        _reconnected.OnCompleted();
        _disconnected.OnCompleted();
    }

    /// <summary>Same as <see cref="DisposeAsync"/>, without waiting for the closing handshake.</summary>
    public void Dispose() => _ = DisposeAsync().AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);

    private ClientWebSocket CurrentOrThrow() => Current ?? throw new WsConnectionError("The websocket is reconnecting; nothing was sent.");

    // Never faults: every failure becomes a Disconnected value or the final OnError of Messages.
    private async Task RunAsync(CancellationToken stop)
    {
        var failures = 0; // consecutive failed connection attempts, for MaxAttempts
        var waits = 0;    // waits in the current streak, for the backoff
        var everConnected = false;
        while (!stop.IsCancellationRequested)
        {
            ClientWebSocket? ws = null;
            try
            {
                ws = await _session.WsConnectAsync(_url, _options, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                failures++;
                _disconnected.OnNext(new DisconnectionInfo(null, e));
            }
            catch (Exception)
            {
                return;
            }

            if (ws is not null)
            {
                lock (_gate) _current = ws;
                _reconnected.OnNext(new ReconnectionInfo(ws, everConnected ? ReconnectionType.Lost : ReconnectionType.Initial, failures + 1));
                everConnected = true;
                failures = waits = 0;
                // Forward until this socket ends; its completion or error is a loss, not the end of the wrapper.
                var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (ws.Messages.Subscribe(_messages.OnNext, _ => ended.TrySetResult(), () => ended.TrySetResult()))
                using (stop.Register(() => ended.TrySetResult()))
                    await ended.Task.ConfigureAwait(false);
                lock (_gate) _current = null;
                if (stop.IsCancellationRequested) return;
                _disconnected.OnNext(new DisconnectionInfo(ws.CloseCode, ws.Exception));
            }

            if (_reconnect.MaxAttempts is { } max && failures >= max)
            {
                _messages.OnError(new WsConnectionError($"Gave up connecting to {_url} after {failures} failed attempt(s)."));
                return;
            }
            try
            {
                await Observable.Timer(_reconnect.DelayFor(++waits), _session.Scheduler).ToTask(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

public sealed partial class ClientSession
{
    /// <summary>
    /// A websocket to <paramref name="url"/> that reconnects on loss with exponential backoff (on this session's
    /// scheduler). Subscribe to its streams, then call <see cref="ReconnectingWebSocket.Start"/>.
    /// </summary>
    public ReconnectingWebSocket WsReconnecting(Url url, WsConnectOptions? options = null, ReconnectOptions? reconnect = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        return new ReconnectingWebSocket(this, url, options, reconnect ?? new ReconnectOptions());
    }
}
