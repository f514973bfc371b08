using System.Reactive.Concurrency;

namespace RxHttp.Tests.Support;

/// <summary>
/// A real clock that counts what is scheduled on it at an absolute time: Rx keeps such work queued until its time
/// even once cancelled, so a timer per request or per message that goes straight to it leaves a dead entry behind.
/// It counts timers at a relative time as well: on a real clock each is a timer of its own, set and cancelled.
/// </summary>
public sealed class AbsoluteCountingScheduler : IScheduler
{
    private readonly IScheduler _inner = DefaultScheduler.Instance;
    private int _absolute;
    private int _relative;

    /// <summary>How many actions were scheduled at an absolute time.</summary>
    public int Absolute => Volatile.Read(ref _absolute);

    /// <summary>How many actions were scheduled after a relative delay.</summary>
    public int Relative => Volatile.Read(ref _relative);

    public DateTimeOffset Now => _inner.Now;

    /// <summary>
    /// The whole seconds since <paramref name="started"/>, plus one: how many whole-second deadlines of one timeout the
    /// timer wheel may have scheduled meanwhile.
    /// </summary>
    public int SecondsSince(DateTimeOffset started) => (int)Math.Ceiling((Now - started).TotalSeconds) + 1;

    public IDisposable Schedule<TState>(TState state, Func<IScheduler, TState, IDisposable> action) => _inner.Schedule(state, (_, s) => action(this, s));

    public IDisposable Schedule<TState>(TState state, TimeSpan dueTime, Func<IScheduler, TState, IDisposable> action)
    {
        Interlocked.Increment(ref _relative);
        return _inner.Schedule(state, dueTime, (_, s) => action(this, s));
    }

    public IDisposable Schedule<TState>(TState state, DateTimeOffset dueTime, Func<IScheduler, TState, IDisposable> action)
    {
        Interlocked.Increment(ref _absolute);
        return _inner.Schedule(state, dueTime, (_, s) => action(this, s));
    }
}
