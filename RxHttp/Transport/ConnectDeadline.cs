using System.Reactive.Concurrency;

namespace RxHttp.Transport;

/// <summary>
/// <see cref="ClientTimeout.SockConnect"/> around one step of opening a connection (a socket connect, a TLS handshake,
/// a user's stream opener): a source linked to the caller's token that the timer wheel cancels at the ceiled deadline.
/// <see cref="Expired"/> tells that cancellation from the caller's own. One per step, disposed when the step ends.
/// </summary>
internal sealed class ConnectDeadline : TimerWheel.Timer, IDisposable
{
    private readonly CancellationTokenSource _cts;
    private int _expired;

    /// <param name="clock">The connector's clock.</param>
    /// <param name="sockConnect">The timeout; null: none (only <paramref name="ct"/> cancels).</param>
    /// <param name="ceilThreshold">The ceiling rule's threshold (see <see cref="Ceiling"/>).</param>
    /// <param name="ct">The caller's token.</param>
    public ConnectDeadline(IScheduler clock, TimeSpan? sockConnect, TimeSpan ceilThreshold, CancellationToken ct)
        : this(clock, sockConnect is { } t ? Ceiling.Deadline(clock.Now, t, ceilThreshold) : null, ct)
    {
    }

    /// <summary>A step that must end by <paramref name="due"/> (null: only <paramref name="ct"/> cancels it).</summary>
    public ConnectDeadline(IScheduler clock, DateTimeOffset? due, CancellationToken ct)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Due = due;
        if (due is { } d) TimerWheel.For(clock).Schedule(d, this);
    }

    /// <summary>When the deadline passes; null: none.</summary>
    public DateTimeOffset? Due { get; }

    /// <summary>Cancelled by the caller or at the deadline.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>The deadline passed (and cancelled <see cref="Token"/>).</summary>
    public bool Expired => Volatile.Read(ref _expired) == 1;

    protected internal override void Run()
    {
        Volatile.Write(ref _expired, 1);
        // The timer may fire just as the step ends and disposes its source (cancelling the timer does not stop a run
        // already under way): then there is nothing left to cancel, and throwing here, on a timer thread, would take
        // the process down.
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        Cancel();
        _cts.Dispose();
    }
}
