using System.Reactive.Concurrency;

namespace RxHttp.Transport;

/// <summary>
/// A wait that activity starts over: the websocket's heartbeat and receive timeout, which every inbound read or
/// message restarts, and the reconnecting websocket's watchdog (<c>NoMessageTimeout</c>). Activity only records its
/// time (one clock read). The one timer, on the wheel, finds the deadline moved when it comes due and goes back on
/// the wheel for the new one. Re-arming a timer per message cost a lock and an allocation each, and for the receive
/// timeout a timer on the scheduler itself per message.
/// </summary>
internal sealed class IdleDeadline : TimerWheel.Timer, IDisposable
{
    private readonly IScheduler _scheduler;
    private readonly TimerWheel _wheel;
    private readonly TimeSpan _delay;
    private readonly TimeSpan _ceilThreshold;
    private readonly Action _expired;
    private long _touched; // UtcTicks of the latest activity
    private volatile bool _stopped;

    /// <param name="scheduler">The clock, and where the timer runs (through its wheel).</param>
    /// <param name="delay">How long a silence may last.</param>
    /// <param name="ceilThreshold">As <see cref="Ceiling.Deadline"/>; <see cref="TimeSpan.MaxValue"/> keeps deadlines exact.</param>
    /// <param name="expired">Runs once the silence has lasted <paramref name="delay"/>; the wait is then over until <see cref="Resume"/>.</param>
    public IdleDeadline(IScheduler scheduler, TimeSpan delay, TimeSpan ceilThreshold, Action expired)
    {
        _scheduler = scheduler;
        _wheel = TimerWheel.For(scheduler);
        _delay = delay;
        _ceilThreshold = ceilThreshold;
        _expired = expired;
    }

    /// <summary>The time of the latest activity (or of the start).</summary>
    public DateTimeOffset LastActivity => new(Volatile.Read(ref _touched), TimeSpan.Zero);

    /// <summary>Starts the wait from now.</summary>
    public void Start()
    {
        Touch();
        Resume();
    }

    /// <summary>Activity: the silence starts over from now.</summary>
    public void Touch() => Volatile.Write(ref _touched, _scheduler.Now.UtcTicks);

    /// <summary>Waits again, from the latest activity (after <c>expired</c> ran, for a wait with a second phase).</summary>
    public void Resume()
    {
        if (_stopped) return;
        _wheel.Schedule(Ceiling.Deadline(LastActivity, _delay, _ceilThreshold), this);
        // Stopped meanwhile: Stop's Cancel may have come before the timer was on the wheel.
        if (_stopped) Cancel();
    }

    /// <summary>Ends the wait for good.</summary>
    public void Stop()
    {
        _stopped = true;
        Cancel();
    }

    /// <summary>As <see cref="Stop"/>.</summary>
    public void Dispose() => Stop();

    protected internal override void Run()
    {
        if (_stopped) return;
        var due = Ceiling.Deadline(LastActivity, _delay, _ceilThreshold);
        if (due > _scheduler.Now) Resume();
        else _expired();
    }
}
