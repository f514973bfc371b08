using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Runtime.CompilerServices;

namespace RxHttp.Tests.Support;

/// <summary>
/// A virtual-time scheduler with Microsoft.Reactive.Testing's names and tick semantics (1 tick = 100 ns,
/// <see cref="ReactiveTest"/> marble times). That package does not restore here, so the tests carry this copy.
/// </summary>
public sealed class TestScheduler : VirtualTimeScheduler<long, long>
{
    public TestScheduler() : base(0, Comparer<long>.Default) { }

    protected override long Add(long absolute, long relative) => absolute + relative;
    protected override DateTimeOffset ToDateTimeOffset(long absolute) => new(absolute, TimeSpan.Zero);
    protected override long ToRelative(TimeSpan timeSpan) => timeSpan.Ticks;

    // Real-socket tests schedule timers from thread-pool continuations while the test thread advances the
    // clock; the base queue is not thread-safe, so scheduling and advancing share one (reentrant) lock.
    private readonly object _gate = new();
    private readonly List<(long Due, IDisposable Item, StrongBox<bool> Ran)> _scheduled = new();

    /// <summary>Schedules at an absolute tick, running at once-past times at the current tick like the original.</summary>
    public override IDisposable ScheduleAbsolute<TState>(TState state, long dueTime, Func<IScheduler, TState, IDisposable> action)
    {
        lock (_gate)
        {
            if (dueTime <= Clock) dueTime = Clock + 1;
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
        lock (_gate)
            return _scheduled.Any(s => s.Due == due && !s.Ran.Value && s.Item is ScheduledItem<long> { IsCanceled: false });
    }

    /// <summary>The due ticks of every timer still pending, in order (for diagnostics).</summary>
    public IReadOnlyList<long> PendingDueTimes()
    {
        lock (_gate)
            return _scheduled.Where(s => !s.Ran.Value && s.Item is ScheduledItem<long> { IsCanceled: false }).Select(s => s.Due).Order().ToList();
    }

    /// <summary>Runs every timer due up to <paramref name="time"/>, under the scheduling lock.</summary>
    public new void AdvanceTo(long time)
    {
        lock (_gate) base.AdvanceTo(time);
    }

    /// <summary>Runs every timer due within <paramref name="time"/> ticks, under the scheduling lock.</summary>
    public new void AdvanceBy(long time)
    {
        lock (_gate) base.AdvanceBy(time);
    }

    /// <summary>Creates an observer that records notifications with the virtual time they arrived.</summary>
    public ITestableObserver<T> CreateObserver<T>() => new MockObserver<T>(this);

    /// <summary>Creates a cold observable that replays <paramref name="messages"/> relative to subscription time.</summary>
    public IObservable<T> CreateColdObservable<T>(params Recorded<Notification<T>>[] messages) =>
        System.Reactive.Linq.Observable.Create<T>(observer =>
        {
            var d = new CompositeDisposable();
            foreach (var m in messages)
                d.Add(ScheduleRelative(m, m.Time, (_, msg) => { msg.Value.Accept(observer); return Disposable.Empty; }));
            return d;
        });

    /// <summary>Creates at <paramref name="created"/>, subscribes at <paramref name="subscribed"/>, disposes at <paramref name="disposed"/>, then runs to the end.</summary>
    public ITestableObserver<T> Start<T>(Func<IObservable<T>> create, long created, long subscribed, long disposed)
    {
        IObservable<T>? source = null;
        IDisposable? subscription = null;
        var observer = CreateObserver<T>();
        ScheduleAbsolute(created, () => source = create());
        ScheduleAbsolute(subscribed, () => subscription = source!.Subscribe(observer));
        ScheduleAbsolute(disposed, () => subscription!.Dispose());
        Start();
        return observer;
    }

    /// <summary>The defaults of the original: create at 100, subscribe at 200, dispose at 1000.</summary>
    public ITestableObserver<T> Start<T>(Func<IObservable<T>> create) =>
        Start(create, ReactiveTest.Created, ReactiveTest.Subscribed, ReactiveTest.Disposed);

    private IDisposable ScheduleAbsolute(long due, Action action) =>
        ScheduleAbsolute(action, due, (_, a) => { a(); return Disposable.Empty; });
}

/// <summary>A value with the virtual time it was seen.</summary>
public readonly record struct Recorded<T>(long Time, T Value)
{
    public override string ToString() => $"{Value}@{Time}";
}

public interface ITestableObserver<T> : IObserver<T>
{
    IList<Recorded<Notification<T>>> Messages { get; }
}

internal sealed class MockObserver<T>(TestScheduler scheduler) : ITestableObserver<T>
{
    public IList<Recorded<Notification<T>>> Messages { get; } = new List<Recorded<Notification<T>>>();
    public void OnNext(T value) => Messages.Add(new(scheduler.Clock, Notification.CreateOnNext(value)));
    public void OnError(Exception error) => Messages.Add(new(scheduler.Clock, Notification.CreateOnError<T>(error)));
    public void OnCompleted() => Messages.Add(new(scheduler.Clock, Notification.CreateOnCompleted<T>()));
}

/// <summary>Marble helpers with the original's names: <c>OnNext(230, x)</c>.</summary>
public class ReactiveTest
{
    public const long Created = 100;
    public const long Subscribed = 200;
    public const long Disposed = 1000;

    public static Recorded<Notification<T>> OnNext<T>(long ticks, T value) => new(ticks, Notification.CreateOnNext(value));
    public static Recorded<Notification<T>> OnCompleted<T>(long ticks) => new(ticks, Notification.CreateOnCompleted<T>());
    public static Recorded<Notification<T>> OnError<T>(long ticks, Exception error) => new(ticks, Notification.CreateOnError<T>(error));
}
