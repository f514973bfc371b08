using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Runtime.CompilerServices;

namespace RxHttp.Transport;

/// <summary>
/// Coalesces timers that are due at the same tick of one scheduler into one scheduled action. This is what
/// aiohttp's ceiling is for: deadlines rounded up to a whole second share a wake-up. It also keeps the scheduler's
/// queue small: Rx's long-term queue keeps a cancelled item until it is due, so one 300 s timer per request would
/// leave hundreds of thousands of dead entries behind under load; here a cancelled timer is unlinked at once and a
/// bucket that empties cancels its single scheduled action, unless it is due at a whole second (a ceiled deadline,
/// see <see cref="Ceiling"/>): those are few (one per second of the longest timeout) and reused by the next timer.
/// On a virtual-time scheduler every emptied bucket is cancelled, so no leftover moves a test's clock.
/// </summary>
internal sealed class TimerWheel
{
    private static readonly ConditionalWeakTable<IScheduler, TimerWheel> Wheels = new();

    private readonly IScheduler _scheduler;
    private readonly object _gate = new();
    private readonly Dictionary<long, Bucket> _buckets = new();

    // Keeping an emptied whole-second bucket scheduled saves rescheduling under load, but on a virtual clock a
    // leftover is visible: TestScheduler.Start() would run the clock up to the last cancelled 300 s deadline.
    private readonly bool _keepWholeSeconds;

    private TimerWheel(IScheduler scheduler)
    {
        _scheduler = scheduler;
        _keepWholeSeconds = !IsVirtualTime(scheduler);
    }

    /// <summary>True for Rx's virtual-time schedulers (TestScheduler, HistoricalScheduler): their clock moves only when told.</summary>
    internal static bool IsVirtualTime(IScheduler scheduler)
    {
        for (var t = scheduler.GetType(); t is not null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(VirtualTimeSchedulerBase<,>)) return true;
        return false;
    }

    public static TimerWheel For(IScheduler scheduler) => Wheels.GetValue(scheduler, static s => new TimerWheel(s));

    /// <summary>Runs <paramref name="action"/> at <paramref name="due"/> unless the returned handle is disposed first.</summary>
    public IDisposable Schedule<TState>(DateTimeOffset due, TState state, Action<TState> action)
    {
        var entry = new Entry<TState>(state, action);
        Schedule(due, entry);
        return entry;
    }

    /// <summary>As <see cref="Schedule{TState}"/> for an action that carries its own state (a closure).</summary>
    public IDisposable Schedule(DateTimeOffset due, Action action) => Schedule(due, action, static a => a());

    /// <summary>
    /// Runs <paramref name="action"/> once <paramref name="delay"/> has passed on <paramref name="scheduler"/>'s clock,
    /// exactly (not ceiled). For a wait whose length is not ours to bound (a server's SSE <c>retry</c>, a
    /// <c>Retry-After</c>, a user's TimeSpan.MaxValue for "never"): handed to the scheduler whole, a wait over about
    /// 49.7 days makes <see cref="DefaultScheduler"/> throw, so such a wait goes through the wheel, which waits in
    /// steps; a shorter one is scheduled as it is.
    /// </summary>
    public static IDisposable After(IScheduler scheduler, TimeSpan delay, Action action) => After(scheduler, delay, action, static a => a());

    /// <summary>As <see cref="After(IScheduler, TimeSpan, Action)"/> with the action's state passed in (no closure).</summary>
    public static IDisposable After<TState>(IScheduler scheduler, TimeSpan delay, TState state, Action<TState> action) =>
        delay <= LongestWait
            ? scheduler.Schedule((State: state, Action: action), delay, static (_, s) =>
            {
                s.Action(s.State);
                return Disposable.Empty;
            })
            : For(scheduler).Schedule(Ceiling.Deadline(scheduler.Now, delay, TimeSpan.MaxValue), state, action);

    /// <summary>As <see cref="After(IScheduler, TimeSpan, Action)"/>, as an observable of one value (Rx's <c>Observable.Timer</c>).</summary>
    public static IObservable<Unit> Wait(IScheduler scheduler, TimeSpan delay) =>
        Observable.Create<Unit>(observer => After(scheduler, delay, observer, static o =>
        {
            o.OnNext(Unit.Default);
            o.OnCompleted();
        }));

    /// <summary>
    /// Runs <paramref name="timer"/> at <paramref name="due"/> unless it is cancelled first: for an owner that is
    /// its own timer (one allocation fewer per request), or that reuses one timer object. A timer is on the wheel at
    /// most once: scheduling it again moves it.
    /// </summary>
    public void Schedule(DateTimeOffset due, Timer timer)
    {
        // A reused timer is scheduled again only once it fired or was cancelled; make sure it is unlinked.
        if (Volatile.Read(ref timer.Owner) is not null) timer.Cancel();
        var entry = timer;
        Bucket? created = null;
        lock (_gate)
        {
            var key = due.UtcTicks;
            if (!_buckets.TryGetValue(key, out var bucket))
            {
                bucket = created = new Bucket(this, key);
                _buckets[key] = bucket;
            }
            bucket.Add(entry);
        }
        // Scheduling outside the lock: a virtual-time scheduler may run due work synchronously.
        if (created is not null) Arm(created, due);
    }

    /// <summary>
    /// The longest single wait handed to the scheduler. Rx's real schedulers end in a <see cref="System.Threading.Timer"/>,
    /// which refuses more than about 49.7 days (Scheduler.Default for a relative time, EventLoopScheduler even for an
    /// absolute one, on its own thread, which takes the process down); a timeout of TimeSpan.MaxValue ("never") or
    /// of 60 days is legal, so a longer deadline waits in steps of this.
    /// </summary>
    internal static readonly TimeSpan LongestWait = TimeSpan.FromDays(30);

    private void Arm(Bucket bucket, DateTimeOffset due)
    {
        var now = _scheduler.Now;
        var step = due.UtcTicks - now.UtcTicks > LongestWait.Ticks;
        bucket.Handle.Disposable = _scheduler.Schedule((Bucket: bucket, Due: due, Step: step), step ? now + LongestWait : due, static (_, x) =>
        {
            // Only a step looks at the clock again: a timer at its own deadline fires as the scheduler says.
            if (x.Step) x.Bucket.Wheel.Arm(x.Bucket, x.Due);
            else x.Bucket.Fire();
            return Disposable.Empty;
        });
    }

    /// <summary>How many timers are waiting for <paramref name="due"/> (an emptied bucket may stay scheduled).</summary>
    internal int CountDueAt(DateTimeOffset due)
    {
        lock (_gate) return _buckets.TryGetValue(due.UtcTicks, out var b) ? b.Count : 0;
    }

    /// <summary>Whether a bucket (scheduled action) exists for <paramref name="due"/>, emptied or not.</summary>
    internal bool HasBucket(DateTimeOffset due)
    {
        lock (_gate) return _buckets.ContainsKey(due.UtcTicks);
    }

    /// <summary>One timer on the wheel; <see cref="Cancel"/> unlinks it at once.</summary>
    internal abstract class Timer
    {
        internal Bucket? Owner;
        internal Timer? Prev, Next;

        protected internal abstract void Run();

        public void Cancel()
        {
            var owner = Volatile.Read(ref Owner);
            owner?.Remove(this);
        }
    }

    private sealed class Entry<TState>(TState state, Action<TState> action) : Timer, IDisposable
    {
        protected internal override void Run() => action(state);

        public void Dispose() => Cancel();
    }

    internal sealed class Bucket(TimerWheel wheel, long key)
    {
        private Timer? _head;
        private int _count;
        private bool _fired;

        public int Count => _count;

        // Serial: a deadline past LongestWait is scheduled again at each step.
        public readonly SerialDisposable Handle = new();

        public TimerWheel Wheel => wheel;

        // Called under the wheel's lock.
        public void Add(Timer e)
        {
            e.Owner = this;
            e.Next = _head;
            if (_head is not null) _head.Prev = e;
            _head = e;
            _count++;
        }

        public void Remove(Timer e)
        {
            var cancelBucket = false;
            lock (wheel._gate)
            {
                if (e.Owner != this || _fired) return;
                e.Owner = null;
                if (e.Prev is not null) e.Prev.Next = e.Next;
                else _head = e.Next;
                if (e.Next is not null) e.Next.Prev = e.Prev;
                e.Prev = e.Next = null;
                // A ceiled deadline (a whole second) is shared by every request of that second: keep its emptied
                // bucket and action for the next timer, rather than rescheduling one per sequential request.
                if (--_count == 0 && !(wheel._keepWholeSeconds && key % TimeSpan.TicksPerSecond == 0))
                {
                    wheel._buckets.Remove(key);
                    cancelBucket = true;
                }
            }
            if (cancelBucket) Handle.Dispose();
        }

        public void Fire()
        {
            List<Timer> due;
            lock (wheel._gate)
            {
                if (_fired) return;
                _fired = true;
                wheel._buckets.Remove(key);
                if (_count == 0) return;
                due = new List<Timer>(_count);
                // Oldest first, as separate timers at the same tick would run.
                for (var e = _head; e is not null; e = e.Next) due.Add(e);
                due.Reverse();
                foreach (var e in due) e.Owner = null;
                _head = null;
                _count = 0;
            }
            foreach (var e in due) e.Run();
        }
    }
}
