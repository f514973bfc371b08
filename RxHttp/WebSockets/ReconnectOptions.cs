using System.Reactive;

namespace RxHttp;

/// <summary>What a <see cref="ReconnectingWebSocket"/> does when a send cannot wait in its full queue.</summary>
public enum WsSendQueueFullMode
{
    /// <summary>The new send fails with <see cref="WsSendQueueFullError"/>; the queue is unchanged.</summary>
    Fail,
    /// <summary>The oldest waiting send is dropped (it fails with <see cref="WsSendQueueFullError"/>) to make room.</summary>
    DropOldest,
}

/// <summary>
/// Settings of a <see cref="ReconnectingWebSocket"/>: the backoff between attempts, the send queue, the silence
/// watchdog and the per-connection hook. Checked when the websocket is created
/// (<see cref="ClientSession.WsReconnecting"/>), so a bad value fails there and not on the first reconnection.
/// </summary>
public sealed record ReconnectOptions
{
    /// <summary>The wait before the first reconnection attempt after a loss or a failed attempt (default 1 s; Websocket.Client's <c>ErrorReconnectTimeout</c>).</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between attempts (default 30 s).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Each failed attempt multiplies the wait by this (default 2).</summary>
    public double Factor { get; init; } = 2;

    /// <summary>
    /// How much of each wait is random, 0 to 1 (default 0.5): the wait is <c>d - d * Jitter * Random()</c>, so that
    /// the clients of a server that restarts do not all come back at the same instant.
    /// </summary>
    public double Jitter { get; init; } = 0.5;

    /// <summary>The random source in [0, 1) for the jitter (default <see cref="System.Random.Shared"/>); tests pin it.</summary>
    public Func<double>? Random { get; init; }

    /// <summary>Consecutive failed attempts after which the wrapper gives up and fails <see cref="ReconnectingWebSocket.Messages"/>; null retries forever.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>
    /// How many sends may wait for a connection (default 1000; the one being written is not counted). Sends wait in
    /// order across reconnections and are written once a connection is ready.
    /// </summary>
    public int SendQueueLimit { get; init; } = 1000;

    /// <summary>What a send does when <see cref="SendQueueLimit"/> sends already wait (default <see cref="WsSendQueueFullMode.Fail"/>).</summary>
    public WsSendQueueFullMode SendQueueFullMode { get; init; } = WsSendQueueFullMode.Fail;

    /// <summary>
    /// The silence watchdog (Websocket.Client's <c>ReconnectTimeout</c>): when no message arrives for this long on an
    /// open connection, it is closed and replaced at once (<see cref="DisconnectionType.NoMessageReceived"/>). Pings
    /// answered by autoping do not count as messages. Null (the default) never reconnects for silence.
    /// </summary>
    public TimeSpan? NoMessageTimeout { get; init; }

    /// <summary>
    /// Runs on every new connection before <see cref="ReconnectingWebSocket.Reconnected"/> fires and before queued
    /// sends are written (e.g. to log in or re-send subscriptions on the socket it is given); the connection is used
    /// when the observable completes. Its error counts as a failed attempt: the socket is closed and the error is
    /// reported in <see cref="ReconnectingWebSocket.Disconnected"/>.
    /// </summary>
    public Func<ClientWebSocket, IObservable<Unit>>? OnConnected { get; init; }

    internal void Validate()
    {
        if (InitialDelay <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(InitialDelay), InitialDelay, "InitialDelay must be positive: a zero wait would retry a refusing server in a tight loop.");
        if (MaxDelay < InitialDelay)
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, $"MaxDelay cannot be shorter than InitialDelay ({InitialDelay}).");
        if (!(Factor >= 1) || double.IsInfinity(Factor))
            throw new ArgumentOutOfRangeException(nameof(Factor), Factor, "Factor must be a finite number of at least 1.");
        if (!(Jitter is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(Jitter), Jitter, "Jitter must be between 0 and 1.");
        if (MaxAttempts is < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "MaxAttempts must be at least 1 (or null: retry forever).");
        if (SendQueueLimit < 1)
            throw new ArgumentOutOfRangeException(nameof(SendQueueLimit), SendQueueLimit, "SendQueueLimit must be at least 1.");
        if (!Enum.IsDefined(SendQueueFullMode))
            throw new ArgumentOutOfRangeException(nameof(SendQueueFullMode), SendQueueFullMode, "Unknown SendQueueFullMode.");
        if (NoMessageTimeout is { } silence && silence <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(NoMessageTimeout), silence, "NoMessageTimeout must be positive (or null: no watchdog).");
    }

    // The wait before retry number <paramref name="retry"/> (1-based) of a streak.
    internal TimeSpan DelayFor(int retry) =>
        Backoff.Delay(InitialDelay, Factor, retry, MaxDelay, Jitter, Random ?? System.Random.Shared.NextDouble);
}

/// <summary>Why a <see cref="ReconnectingWebSocket"/> connected (the cause of the loss it recovers from).</summary>
public enum ReconnectionType
{
    /// <summary>The first connection.</summary>
    Initial,
    /// <summary>After the connection was lost (dropped, failed, or closed without a code).</summary>
    Lost,
    /// <summary>After the silence watchdog (<see cref="ReconnectOptions.NoMessageTimeout"/>) closed a quiet connection.</summary>
    NoMessageReceived,
    /// <summary>After attempts that failed (the handshake or <see cref="ReconnectOptions.OnConnected"/>), with no connection before them.</summary>
    Error,
    /// <summary>After <see cref="ReconnectingWebSocket.Reconnect"/>.</summary>
    ByUser,
    /// <summary>After the server closed the connection with a CLOSE frame.</summary>
    ByServer,
}

/// <summary>Why a <see cref="ReconnectingWebSocket"/> lost its connection or failed to get one.</summary>
public enum DisconnectionType
{
    /// <summary>The connection dropped or failed (no CLOSE frame, a timeout, a protocol error).</summary>
    Lost,
    /// <summary>The server closed the connection with a CLOSE frame.</summary>
    ByServer,
    /// <summary>No message arrived within <see cref="ReconnectOptions.NoMessageTimeout"/>.</summary>
    NoMessageReceived,
    /// <summary>An attempt failed: the handshake, or <see cref="ReconnectOptions.OnConnected"/>.</summary>
    Error,
    /// <summary><see cref="ReconnectingWebSocket.Reconnect"/> closed the connection.</summary>
    ByUser,
    /// <summary>The wrapper was disposed, or its session was closed.</summary>
    Exit,
}

/// <summary>A (re)connection: the new socket, why, and how many attempts it took since the last success.</summary>
/// <param name="Socket">The websocket now in use.</param>
/// <param name="Type">Why this connection was made.</param>
/// <param name="Attempts">Attempts it took (1 when the first try worked).</param>
public sealed record ReconnectionInfo(ClientWebSocket Socket, ReconnectionType Type, int Attempts);

/// <summary>A loss: why, the close code when the socket had one, and the error when there was one.</summary>
/// <param name="CloseCode">The websocket's close code, null when it never opened.</param>
/// <param name="Exception">What failed, or null for a clean close by the server or a deliberate one.</param>
/// <param name="Type">Why the connection ended.</param>
public sealed record DisconnectionInfo(int? CloseCode, Exception? Exception, DisconnectionType Type = DisconnectionType.Lost);
