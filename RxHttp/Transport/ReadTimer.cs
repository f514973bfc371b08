using System.Reactive.Concurrency;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// The SockRead timeout: armed before each socket read and disarmed when bytes arrive, so it measures the
/// gap between chunks. Fires on the session's scheduler, handing the reader what to abort.
/// </summary>
internal sealed class ReadTimer(IScheduler scheduler, TimeSpan timeout, TimeSpan ceilThreshold)
{
    private IDisposable? _pending;

    /// <summary>A timer for <paramref name="timeout"/>'s SockRead on <paramref name="scheduler"/>; null when SockRead is off.</summary>
    public static ReadTimer? SockRead(ClientTimeout timeout, IScheduler scheduler) =>
        ClientTimeout.Active(timeout.SockRead) is { } sockRead ? new ReadTimer(scheduler, sockRead, timeout.CeilThreshold) : null;

    public void Arm<T>(T reader, Action<T> expired)
    {
        var due = Ceiling.Deadline(scheduler.Now, timeout, ceilThreshold);
        _pending = TimerWheel.For(scheduler).Schedule(due, reader, expired);
    }

    public void Disarm() => Interlocked.Exchange(ref _pending, null)?.Dispose();
}
