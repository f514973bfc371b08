using System.Reactive.Concurrency;

namespace RxHttp.Extensions.Polly;

/// <summary>
/// A <see cref="TimeProvider"/> whose clock and timers are an Rx <see cref="IScheduler"/>'s. Give it to a Polly
/// pipeline (<c>new ResiliencePipelineBuilder&lt;ClientResponse&gt; { TimeProvider = session.Scheduler.AsTimeProvider() }</c>)
/// and Polly's retry delays, timeouts and circuit-breaker durations run on the session's scheduler: with
/// Microsoft.Reactive.Testing's <c>TestScheduler</c> they are decided by <c>AdvanceBy</c>.
/// </summary>
public sealed class SchedulerTimeProvider : TimeProvider
{
    /// <summary>Wraps <paramref name="scheduler"/>.</summary>
    public SchedulerTimeProvider(IScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        Scheduler = scheduler;
    }

    /// <summary>The scheduler whose clock this is.</summary>
    public IScheduler Scheduler { get; }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => Scheduler.Now.ToUniversalTime();

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override long GetTimestamp() => Scheduler.Now.UtcTicks;

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new SchedulerTimer(Scheduler, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class SchedulerTimer(IScheduler scheduler, TimerCallback callback, object? state) : ITimer
    {
        private readonly object _gate = new();
        private IDisposable? _scheduled;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private int _version; // a change or disposal makes an already-running tick's rescheduling void
        private bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            IDisposable? previous;
            int version;
            lock (_gate)
            {
                if (_disposed) return false;
                previous = _scheduled;
                _scheduled = null;
                _period = period;
                version = ++_version;
            }
            previous?.Dispose();
            if (dueTime != Timeout.InfiniteTimeSpan) Arm(dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime, version);
            return true;
        }

        private void Arm(TimeSpan due, int version)
        {
            var scheduled = scheduler.Schedule(due, () => Tick(version));
            bool keep;
            lock (_gate)
            {
                keep = !_disposed && version == _version;
                if (keep) _scheduled = scheduled;
            }
            if (!keep) scheduled.Dispose();
        }

        private void Tick(int version)
        {
            TimeSpan period;
            lock (_gate)
            {
                if (_disposed || version != _version) return;
                period = _period;
            }
            callback(state);
            if (period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero) Arm(period, version);
        }

        public void Dispose()
        {
            IDisposable? scheduled;
            lock (_gate)
            {
                _disposed = true;
                scheduled = _scheduled;
                _scheduled = null;
            }
            scheduled?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Turns an <see cref="IScheduler"/> into a <see cref="TimeProvider"/> for Polly.</summary>
public static class SchedulerTimeProviderExtensions
{
    /// <summary>A <see cref="TimeProvider"/> on <paramref name="scheduler"/>'s clock (see <see cref="SchedulerTimeProvider"/>).</summary>
    public static TimeProvider AsTimeProvider(this IScheduler scheduler) => new SchedulerTimeProvider(scheduler);
}
