using System.Reactive.Concurrency;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Pipeline;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// The pool's queue is FIFO across keys: a connection released at the limit goes to a waiter of its own key only when
/// no waiter of another key queued before it could take the freed slot. Virtual time, through the pool's leases.
/// </summary>
[TestFixture]
public class CrossKeyFairnessMarbleTests : ReactiveTest
{
    private static readonly ConnectionKey A = new("a", 80, false, null);
    private static readonly ConnectionKey B = new("b", 80, false, null);

    private sealed class Pool
    {
        public readonly TestScheduler Scheduler = new();
        public readonly VirtualWire Wire;
        public readonly List<Connection> Leased = new();

        public Pool(int limit, int limitPerHost = 0)
        {
            var servers = Enumerable.Range(0, 4).Select(_ => Scheduler.CreateHotObservable<string>()).ToArray();
            Wire = new VirtualWire(Scheduler, n => servers[n], options: new ConnectorOptions { Limit = limit, LimitPerHost = limitPerHost });
        }

        public ITestableObserver<int> Lease(ConnectionKey key, long at)
        {
            var observer = Scheduler.CreateObserver<int>();
            Scheduler.ScheduleAbsolute(at, () => Wire.Connector.Connect(key).Select(c =>
            {
                Leased.Add(c);
                return Wire.Streams.IndexOf((PeerStream)c.Stream);
            }).Subscribe(observer));
            return observer;
        }

        public void At(long at, Action action) => Scheduler.ScheduleAbsolute(at, action);
    }

    [Test]
    public void A_waiter_of_another_host_queued_first_gets_the_freed_slot_before_a_later_waiter_of_the_released_host()
    {
        var pool = new Pool(limit: 1);
        pool.Lease(A, 200);
        var b = pool.Lease(B, 210);
        var a2 = pool.Lease(A, 220);
        pool.At(300, () => pool.Leased[0].Release());
        pool.At(400, () => pool.Leased[1].Release());
        pool.Scheduler.Start();

        // b opens its own connection at the first release; a's connection idles until a2, next in line, takes it.
        b.Messages.AssertEqual(OnNext(300, 1), OnCompleted<int>(300));
        a2.Messages.AssertEqual(OnNext(400, 0), OnCompleted<int>(400));
    }

    [Test]
    public void Requests_to_one_host_that_keep_coming_do_not_starve_a_waiter_of_another()
    {
        var pool = new Pool(limit: 1);
        pool.Lease(A, 200);
        pool.Lease(A, 205);
        var b = pool.Lease(B, 210);
        // A new request for a queues before each release of a's connection, so a waiter for a is always there.
        for (var i = 0; i < 5; i++)
        {
            pool.Lease(A, 250 + 100 * i);
            pool.At(300 + 100 * i, () => pool.Leased[^1].Release());
        }
        pool.Scheduler.Start();

        b.Messages.AssertEqual(OnNext(400, 1), OnCompleted<int>(400));
    }

    [Test]
    public void A_waiter_held_back_by_its_own_per_host_limit_does_not_keep_a_released_connection_from_its_host()
    {
        var pool = new Pool(limit: 2, limitPerHost: 1);
        pool.Lease(A, 200);
        pool.Lease(B, 210);
        var b2 = pool.Lease(B, 220);
        var a2 = pool.Lease(A, 230);
        pool.At(300, () => pool.Leased[0].Release());
        pool.Scheduler.Start();

        // a's slot cannot serve b2 (b is at its per-host limit), so a2 gets a's connection at once.
        a2.Messages.AssertEqual(OnNext(300, 0), OnCompleted<int>(300));
        b2.Messages.AssertEqual();
    }
}
