using System.Reactive.Concurrency;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Pipeline;
using static RxHttp.Tests.Pipeline.Marble;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// The pool's <c>IObservable&lt;Connection&gt;</c> leases in virtual time, at its limit: who gets a lease when, which
/// connections are opened (each connection's server observable is subscribed while it is open), and what disposing a
/// queued subscription does.
/// </summary>
[TestFixture]
public class LeaseQueueMarbleTests : ReactiveTest
{
    private static readonly ConnectionKey Key = new("h", 80, false, null);

    private sealed class Pool
    {
        public readonly TestScheduler Scheduler = new();
        public readonly ITestableObservable<string>[] Servers;
        public readonly VirtualWire Wire;

        public Pool(int limit)
        {
            Servers = Enumerable.Range(0, 4).Select(_ => Scheduler.CreateHotObservable<string>()).ToArray();
            Wire = new VirtualWire(Scheduler, n => Servers[n], options: new ConnectorOptions { Limit = limit });
        }

        public BaseConnector Connector => Wire.Connector;

        // A subscriber to Connect(Key) from `at` until `until`: what it got, as the index of the connection's stream.
        public ITestableObserver<int> Lease(long at, long until = long.MaxValue)
        {
            var observer = Scheduler.CreateObserver<int>();
            IDisposable? subscription = null;
            Scheduler.ScheduleAbsolute(at, () => subscription = Connector.Connect(Key).Select(c => IndexOf(c)).Subscribe(observer));
            if (until != long.MaxValue) Scheduler.ScheduleAbsolute(until, () => subscription!.Dispose());
            return observer;
        }

        public readonly List<Connection> Leased = new();

        private int IndexOf(Connection c)
        {
            Leased.Add(c);
            return Wire.Streams.IndexOf((PeerStream)c.Stream);
        }

        public void At(long at, Action action) => Scheduler.ScheduleAbsolute(at, action);
    }

    [Test]
    public void At_the_limit_a_third_subscriber_waits_until_a_lease_is_released_and_gets_that_connection()
    {
        var pool = new Pool(limit: 2);
        var a = pool.Lease(200);
        var b = pool.Lease(210);
        var c = pool.Lease(220);
        var waiting = -1;
        pool.At(230, () => waiting = pool.Connector.CurrentState.Waiting);
        pool.At(250, () => pool.Leased[0].Release());
        pool.Scheduler.Start();

        a.Messages.AssertEqual(OnNext(200, 0), OnCompleted<int>(200));
        b.Messages.AssertEqual(OnNext(210, 1), OnCompleted<int>(210));
        c.Messages.AssertEqual(OnNext(250, 0), OnCompleted<int>(250));
        Assert.That(waiting, Is.EqualTo(1));
        // Two connections in all, both still open: the third lease reused the first.
        pool.Servers[0].Subscriptions.AssertEqual(Subscribe(200));
        pool.Servers[1].Subscriptions.AssertEqual(Subscribe(210));
        pool.Servers[2].Subscriptions.AssertEqual();
    }

    [Test]
    public void A_closed_lease_frees_its_slot_and_the_waiter_gets_a_new_connection_at_that_tick()
    {
        var pool = new Pool(limit: 2);
        pool.Lease(200);
        pool.Lease(210);
        var c = pool.Lease(220);
        pool.At(250, () => pool.Leased[0].Close());
        pool.Scheduler.Start();

        c.Messages.AssertEqual(OnNext(250, 2), OnCompleted<int>(250));
        pool.Servers[0].Subscriptions.AssertEqual(Subscribe(200, 250));
        pool.Servers[2].Subscriptions.AssertEqual(Subscribe(250));
    }

    [Test]
    public void Waiters_are_served_first_come_first_served()
    {
        var pool = new Pool(limit: 1);
        pool.Lease(200);
        var second = pool.Lease(210);
        var third = pool.Lease(220);
        pool.At(300, () => pool.Leased[0].Release());
        pool.At(400, () => pool.Leased[1].Release());
        pool.Scheduler.Start();

        second.Messages.AssertEqual(OnNext(300, 0), OnCompleted<int>(300));
        third.Messages.AssertEqual(OnNext(400, 0), OnCompleted<int>(400));
        pool.Servers[1].Subscriptions.AssertEqual();
    }

    [Test]
    public void Disposing_a_queued_subscription_removes_the_waiter_and_the_released_lease_goes_idle()
    {
        var pool = new Pool(limit: 2);
        pool.Lease(200);
        pool.Lease(210);
        var c = pool.Lease(220, until: 240);
        var states = new List<(int InUse, int Idle, int Waiting)>();
        void Snapshot() => states.Add((pool.Connector.CurrentState.InUse, pool.Connector.CurrentState.Idle, pool.Connector.CurrentState.Waiting));
        pool.At(230, Snapshot);
        pool.At(245, Snapshot);
        pool.At(250, () => pool.Leased[0].Release());
        pool.At(260, Snapshot);
        pool.Scheduler.Start();

        c.Messages.AssertEqual();
        Assert.That(states, Is.EqualTo(new[] { (2, 0, 1), (2, 0, 0), (1, 1, 0) }));
        // Nobody took the released connection: it stayed idle until the 15 s keep-alive expiry, ceiled to 16 s.
        pool.Servers[0].Subscriptions.AssertEqual(Subscribe(200, S(16)));
        pool.Servers[2].Subscriptions.AssertEqual();
    }

    [Test]
    public void Disposing_a_queued_subscription_lets_the_one_behind_it_take_the_next_lease()
    {
        var pool = new Pool(limit: 1);
        pool.Lease(200);
        var leaves = pool.Lease(210, until: 240);
        var stays = pool.Lease(220);
        pool.At(250, () => pool.Leased[0].Release());
        pool.Scheduler.Start();

        leaves.Messages.AssertEqual();
        stays.Messages.AssertEqual(OnNext(250, 0), OnCompleted<int>(250));
    }

    [Test]
    public void A_Connect_timeout_ends_the_wait_in_the_queue_at_its_tick_and_removes_the_waiter()
    {
        var pool = new Pool(limit: 1);
        pool.Lease(200);
        var exchange = pool.Wire.Exchange();
        var timeout = new ClientTimeout { Connect = TimeSpan.FromSeconds(2) };
        var waiting = new List<int>();
        pool.At(300, () => waiting.Add(pool.Connector.CurrentState.Waiting));
        pool.At(S(3), () => waiting.Add(pool.Connector.CurrentState.Waiting));

        var res = pool.Scheduler.Start(() => FromValueTask(ct => exchange.AcquireAsync(Key, timeout, pool.Scheduler, ct)).Select(_ => 0), 100, 220, S(10));

        res.Messages.AssertEqual(OnError<int>(220 + S(2), e => e is ConnectionTimeoutError));
        Assert.That(waiting, Is.EqualTo(new[] { 1, 0 }));
    }

    [Test]
    public void A_lease_on_its_way_as_the_Connect_deadline_passes_goes_back_to_the_pool()
    {
        var pool = new Pool(limit: 1);
        pool.Lease(200);
        var deadline = 300 + S(2);
        // A grant that had already left the pool when the deadline fired (on another thread, in real time): it
        // arrives at the deadline's tick, after the deadline, and disposing does not call it back.
        var onItsWay = new LateGrant(pool, deadline);
        var states = new List<(int InUse, int Idle)>();
        pool.At(deadline - 1, () => states.Add((pool.Connector.CurrentState.InUse, pool.Connector.CurrentState.Idle)));
        pool.At(deadline + 1, () => states.Add((pool.Connector.CurrentState.InUse, pool.Connector.CurrentState.Idle)));

        var res = pool.Scheduler.Start(
            () => new LeaseDeadline(onItsWay, new DateTimeOffset(deadline, TimeSpan.Zero), pool.Scheduler,
                () => new ConnectionTimeoutError("Connection timeout")).Select(_ => 0),
            100, 300, S(10));

        res.Messages.AssertEqual(OnError<int>(deadline, e => e is ConnectionTimeoutError));
        Assert.That(states, Is.EqualTo(new[] { (1, 0), (0, 1) }), "the late lease went back to the pool instead of holding its slot");
    }

    // Not Observable.Create: its observer wrapper drops what comes after disposal, which is what a grant racing the
    // deadline on another thread does not do.
    private sealed class LateGrant(Pool pool, long at) : IObservable<Connection>
    {
        public IDisposable Subscribe(IObserver<Connection> observer)
        {
            pool.At(at, () => observer.OnNext(pool.Leased[0]));
            return System.Reactive.Disposables.Disposable.Empty;
        }
    }
}
