using System.Reactive.Concurrency;
using System.Runtime.CompilerServices;
using Microsoft.Reactive.Testing;

namespace RxHttp.Tests.Support;

/// <summary>
/// Microsoft.Reactive.Testing's <see cref="TestScheduler"/> that can also tell which timers are armed: tests of the
/// timer wheel and of timeouts check that a deadline was scheduled (and that a cancelled one is gone) before they
/// advance the clock, which the real scheduler's queue does not expose.
/// </summary>
public class TrackingTestScheduler : TestScheduler
{
    /// <summary>Held while scheduling and (in <see cref="SocketTestScheduler"/>) while advancing.</summary>
    protected readonly object Gate = new();
    private readonly List<(long Due, IDisposable Item, StrongBox<bool> Ran)> _scheduled = new();

    /// <inheritdoc />
    public override IDisposable ScheduleAbsolute<TState>(TState state, long dueTime, Func<IScheduler, TState, IDisposable> action)
    {
        lock (Gate)
        {
            if (dueTime <= Clock) dueTime = Clock + 1; // as the base does, so the recorded due time is the real one
            var ran = new StrongBox<bool>();
            var item = base.ScheduleAbsolute(state, dueTime, (s, st) =>
            {
                ran.Value = true;
                return action(s, st);
            });
            _scheduled.Add((dueTime, item, ran));
            return item;
        }
    }

    /// <summary>True while a timer due at <paramref name="due"/> is scheduled, not yet run and not cancelled.</summary>
    public bool IsPending(long due)
    {
        lock (Gate)
            return _scheduled.Any(s => s.Due == due && IsLive(s));
    }

    /// <summary>The due ticks of every timer still pending, in order (for diagnostics).</summary>
    public IReadOnlyList<long> PendingDueTimes()
    {
        lock (Gate)
            return _scheduled.Where(IsLive).Select(s => s.Due).Order().ToList();
    }

    private static bool IsLive((long Due, IDisposable Item, StrongBox<bool> Ran) s) =>
        !s.Ran.Value && s.Item is ScheduledItem<long> { IsCanceled: false };
}

/// <summary>
/// A <see cref="TrackingTestScheduler"/> for tests where a real loopback socket races the virtual clock: socket
/// completions run on thread-pool threads and arm timers (read timeouts, keep-alive expiry) while the test thread
/// advances the clock, and the base scheduler's queue is not thread-safe. Scheduling and advancing share one
/// reentrant lock (a timer that fires may schedule the next one on the same thread). Tests without sockets use the
/// plain <see cref="TestScheduler"/>.
/// </summary>
public sealed class SocketTestScheduler : TrackingTestScheduler
{
    /// <summary>Runs every timer due up to <paramref name="time"/>, under the scheduling lock.</summary>
    public new void AdvanceTo(long time)
    {
        lock (Gate) base.AdvanceTo(time);
    }

    /// <summary>Runs every timer due within <paramref name="time"/> ticks, under the scheduling lock.</summary>
    public new void AdvanceBy(long time)
    {
        lock (Gate) base.AdvanceBy(time);
    }
}
