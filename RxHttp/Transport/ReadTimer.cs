using System.Reactive.Concurrency;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// The SockRead timeout: armed before each socket read and disarmed when bytes arrive, so it measures the
/// gap between chunks. Fires on the session's scheduler, handing the reader what to abort.
/// </summary>
/// <remarks>
/// Disposing a timer does not stop a callback already running on the scheduler's thread, so the callback and
/// <see cref="Disarm"/> race for the read it guards: each arm has a generation, and only whoever takes that
/// generation first acts. A callback that lost, or that belongs to an earlier read, does nothing; a reader that
/// lost learns it from <see cref="Disarm"/> and must not hand the connection on, whose abort is done or under way.
/// </remarks>
internal sealed class ReadTimer(IScheduler scheduler, TimeSpan timeout, TimeSpan ceilThreshold)
{
    private IDisposable? _pending;
    private long _generation;
    private long _armed; // the guarded read's generation; 0: none; negative: that generation's timer fired

    /// <summary>A timer for <paramref name="timeout"/>'s SockRead on <paramref name="scheduler"/>; null when SockRead is off.</summary>
    public static ReadTimer? SockRead(ClientTimeout timeout, IScheduler scheduler) =>
        ClientTimeout.Active(timeout.SockRead) is { } sockRead ? new ReadTimer(scheduler, sockRead, timeout.CeilThreshold) : null;

    public void Arm<T>(T reader, Action<T> expired)
    {
        var due = Ceiling.Deadline(scheduler.Now, timeout, ceilThreshold);
        var generation = Interlocked.Increment(ref _generation);
        Volatile.Write(ref _armed, generation);
        _pending = TimerWheel.For(scheduler).Schedule(due, (Timer: this, Generation: generation, Reader: reader, Expired: expired), static s =>
        {
            if (Interlocked.CompareExchange(ref s.Timer._armed, -s.Generation, s.Generation) == s.Generation) s.Expired(s.Reader);
        });
    }

    /// <summary>
    /// Ends the guard of the read in progress; when its timer fired first, runs <paramref name="expired"/> here too
    /// (an abort, which lands once), so it has landed before the caller goes on to hand the connection on.
    /// </summary>
    public void Disarm<T>(T reader, Action<T> expired)
    {
        if (!Disarm()) expired(reader);
    }

    /// <summary>
    /// Ends the guard of the read in progress. False when its timer fired first: the abort is done or under way, and
    /// the connection may not be given back to the pool.
    /// </summary>
    public bool Disarm()
    {
        Interlocked.Exchange(ref _pending, null)?.Dispose();
        while (true)
        {
            var armed = Volatile.Read(ref _armed);
            if (armed <= 0) return armed == 0;
            if (Interlocked.CompareExchange(ref _armed, 0, armed) == armed) return true;
        }
    }
}
