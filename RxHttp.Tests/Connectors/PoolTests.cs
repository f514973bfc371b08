using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>The reactive pool in virtual time, over real loopback sockets.</summary>
[TestFixture]
public class PoolTests
{
    private static readonly ConnectionKey A = new("a.test", 80, false);
    private static readonly ConnectionKey B = new("b.test", 80, false);
    private const long Second = TimeSpan.TicksPerSecond;

    private static (SocketTestScheduler, LoopbackConnector) Make(int limit = 100, int perHost = 0, TimeSpan? keepalive = null, bool forceClose = false, bool gated = false)
    {
        var scheduler = new SocketTestScheduler();
        var options = forceClose
            ? new ConnectorOptions { Limit = limit, LimitPerHost = perHost, ForceClose = true, Scheduler = scheduler }
            : new ConnectorOptions { Limit = limit, LimitPerHost = perHost, KeepaliveTimeout = keepalive ?? TimeSpan.FromSeconds(15), Scheduler = scheduler };
        return (scheduler, new LoopbackConnector(options) { Gated = gated });
    }

    private sealed class Lease
    {
        public Connection? Value;
        public Exception? Error;
        public IDisposable Subscription = null!;
    }

    private static Lease Take(BaseConnector pool, ConnectionKey key)
    {
        var lease = new Lease();
        lease.Subscription = pool.Connect(key).Subscribe(c => lease.Value = c, e => lease.Error = e);
        return lease;
    }

    private static async Task<Connection> Got(Lease lease)
    {
        await Wait.Until(() => lease.Value is not null || lease.Error is not null, what: "a lease");
        if (lease.Error is not null) throw lease.Error;
        return lease.Value!;
    }

    [Test]
    public async Task At_the_limit_the_next_subscriber_waits_and_gets_the_first_released_connection()
    {
        var (_, pool) = Make(limit: 2);
        using var _p = pool;
        var first = await Got(Take(pool, A));
        await Got(Take(pool, A));
        var third = Take(pool, A);
        Assert.That(pool.CurrentState.Waiting, Is.EqualTo(1));
        Assert.That(third.Value, Is.Null);
        first.Release();
        Assert.That(third.Value, Is.SameAs(first), "handed over directly, without going idle");
        Assert.That(pool.Opened, Is.EqualTo(2));
        Assert.That(pool.CurrentState, Has.Property("InUse").EqualTo(2).And.Property("Waiting").EqualTo(0).And.Property("Idle").EqualTo(0));
    }

    [Test]
    public async Task Disposing_a_waiter_leaves_the_queue_at_once_and_frees_nothing_it_did_not_hold()
    {
        var (_, pool) = Make(limit: 1);
        using var _p = pool;
        var held = await Got(Take(pool, A));
        var waiter = Take(pool, A);
        Assert.That(pool.CurrentState.Waiting, Is.EqualTo(1));
        waiter.Subscription.Dispose();
        Assert.That(pool.CurrentState, Has.Property("Waiting").EqualTo(0).And.Property("InUse").EqualTo(1));
        held.Release();
        Assert.That(waiter.Value, Is.Null);
        Assert.That(pool.CurrentState.Idle, Is.EqualTo(1), "the released connection went idle, not to the cancelled waiter");
        Assert.That(held.Closed, Is.False);
    }

    [Test]
    public async Task Fifty_waiters_are_served_in_subscription_order()
    {
        var (_, pool) = Make(limit: 1);
        using var _p = pool;
        var held = await Got(Take(pool, A));
        var order = new List<int>();
        for (var i = 0; i < 50; i++)
        {
            var n = i;
            pool.Connect(A).Subscribe(c =>
            {
                order.Add(n);
                c.Release(); // hands it to the next waiter
            });
        }
        Assert.That(pool.CurrentState.Waiting, Is.EqualTo(50));
        held.Release();
        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 50)));
        Assert.That(pool.Opened, Is.EqualTo(1), "one socket served everyone");
        Assert.That(pool.CurrentState, Has.Property("Idle").EqualTo(1).And.Property("Waiting").EqualTo(0));
    }

    [Test]
    public async Task Keepalive_expiry_closes_an_idle_connection_exactly_at_its_tick()
    {
        var (scheduler, pool) = Make(keepalive: TimeSpan.FromSeconds(2)); // under the 5 s ceil threshold: exact
        using var _p = pool;
        var c = await Got(Take(pool, A));
        scheduler.AdvanceTo(1234);
        c.Release();
        scheduler.AdvanceTo(1234 + 2 * Second - 1);
        Assert.That(c.Closed, Is.False);
        Assert.That(pool.CurrentState.Idle, Is.EqualTo(1));
        scheduler.AdvanceTo(1234 + 2 * Second);
        Assert.That(c.Closed, Is.True);
        Assert.That(pool.CurrentState.Idle, Is.EqualTo(0));
    }

    [Test]
    public async Task Keepalive_expiry_at_or_above_the_ceil_threshold_rounds_up_to_a_whole_second()
    {
        var (scheduler, pool) = Make(keepalive: TimeSpan.FromSeconds(15));
        using var _p = pool;
        var c = await Got(Take(pool, A));
        scheduler.AdvanceTo(Second / 2);
        c.Release();
        scheduler.AdvanceTo(16 * Second - 1);
        Assert.That(c.Closed, Is.False, "15.5 s rounds up to 16 s");
        scheduler.AdvanceTo(16 * Second);
        Assert.That(c.Closed, Is.True);
    }

    [Test]
    public async Task A_servers_keepalive_timeout_shortens_the_expiry()
    {
        var (scheduler, pool) = Make(keepalive: TimeSpan.FromSeconds(15));
        using var _p = pool;
        var c = await Got(Take(pool, A));
        c.ServerKeepAlive = TimeSpan.FromSeconds(1);
        c.Release();
        scheduler.AdvanceTo(Second - 1);
        Assert.That(c.Closed, Is.False);
        scheduler.AdvanceTo(Second);
        Assert.That(c.Closed, Is.True);
    }

    [Test]
    public void A_negative_keepalive_timeout_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoopbackConnector(new ConnectorOptions { KeepaliveTimeout = TimeSpan.FromSeconds(-1) }));

    [Test]
    public async Task A_keepalive_timeout_of_zero_keeps_no_connection_idle()
    {
        var (_, pool) = Make(keepalive: TimeSpan.Zero);
        using var _p = pool;
        var c = await Got(Take(pool, A));
        c.Release();
        // Closed as it is released, not at the wheel's next turn: a request before that turn would reuse it.
        Assert.That(c.Closed, Is.True);
        Assert.That(pool.CurrentState.Idle, Is.EqualTo(0));
        Assert.That((await Got(Take(pool, A))).Closed, Is.False);
        Assert.That(pool.Opened, Is.EqualTo(2));
    }

    [Test]
    public async Task A_key_keeps_its_bucket_while_it_has_a_connection_and_loses_it_after()
    {
        var (scheduler, pool) = Make(keepalive: TimeSpan.FromSeconds(2));
        using var _p = pool;
        var a = await Got(Take(pool, A));
        var b = await Got(Take(pool, B));
        Assert.That(pool.BucketCount, Is.EqualTo(2));
        a.Release();
        Assert.That(pool.BucketCount, Is.EqualTo(2), "idle keeps A's bucket");
        var again = await Got(Take(pool, A));
        Assert.That(again, Is.SameAs(a), "the bucket still holds A's idle connection");
        again.Release();
        b.Close();
        Assert.That(pool.BucketCount, Is.EqualTo(1), "B has nothing acquired or idle");
        Assert.That(pool.CurrentState.PerHost.ContainsKey(B), Is.False);
        scheduler.AdvanceBy(2 * Second);
        Assert.That(a.Closed, Is.True);
        Assert.That(pool.BucketCount, Is.EqualTo(0), "A's idle one expired");
        var fresh = await Got(Take(pool, A));
        Assert.That(fresh, Is.Not.SameAs(a));
        Assert.That(pool.CurrentState.PerHost[A], Is.EqualTo(1), "a new bucket counts the new lease");
        fresh.Release();
        Assert.That(pool.CurrentState, Has.Property("Idle").EqualTo(1).And.Property("InUse").EqualTo(0));
    }

    [Test]
    public async Task Idle_connections_are_reused_most_recently_released_first()
    {
        var (_, pool) = Make();
        using var _p = pool;
        var one = await Got(Take(pool, A));
        var two = await Got(Take(pool, A));
        one.Release();
        two.Release();
        var next = await Got(Take(pool, A));
        Assert.That(next, Is.SameAs(two));
        Assert.That(pool.Opened, Is.EqualTo(2));
    }

    [Test]
    public async Task Force_close_closes_instead_of_pooling_and_rejects_a_keepalive_timeout()
    {
        var (_, pool) = Make(forceClose: true);
        using var _p = pool;
        var c = await Got(Take(pool, A));
        c.Release();
        Assert.That(c.Closed, Is.True);
        Assert.That(pool.CurrentState.Open, Is.EqualTo(0));
        await Got(Take(pool, A));
        Assert.That(pool.Opened, Is.EqualTo(2));
        Assert.Throws<ArgumentException>(() => new LoopbackConnector(new ConnectorOptions { ForceClose = true, KeepaliveTimeout = TimeSpan.FromSeconds(1) }));
    }

    [Test]
    public async Task Per_host_limit_queues_that_host_only()
    {
        var (_, pool) = Make(perHost: 1);
        using var _p = pool;
        var a = await Got(Take(pool, A));
        var a2 = Take(pool, A);
        Assert.That(pool.CurrentState.Waiting, Is.EqualTo(1));
        var b = await Got(Take(pool, B));
        Assert.That(b.Key, Is.EqualTo(B), "another host is not stuck behind a's queue");
        Assert.That(pool.CurrentState.PerHost[A], Is.EqualTo(1));
        Assert.That(pool.CurrentState.PerHost[B], Is.EqualTo(1));
        a.Release();
        Assert.That(a2.Value, Is.SameAs(a));
    }

    [Test]
    public async Task State_publishes_opening_in_use_idle_and_waiting()
    {
        var (_, pool) = Make(limit: 1, gated: true);
        using var _p = pool;
        var seen = new List<(int InUse, int Opening, int Idle, int Waiting)>();
        using var sub = pool.State.Subscribe(s => { lock (seen) seen.Add((s.InUse, s.Opening, s.Idle, s.Waiting)); });
        var first = Take(pool, A);
        var second = Take(pool, A);
        await Wait.Until(() => pool.PendingOpens == 1);
        pool.OpenNext();
        var c = await Got(first);
        c.Release(); // handed to the waiter
        second.Value!.Release();
        List<(int, int, int, int)> copy;
        lock (seen) copy = seen.Distinct().ToList();
        Assert.That(copy, Is.EqualTo(new List<(int, int, int, int)>
        {
            (0, 0, 0, 0), // the snapshot on subscribe
            (0, 1, 0, 0), // opening
            (0, 1, 0, 1), // second waits
            (1, 0, 0, 1), // opened
            (1, 0, 0, 0), // handed to the waiter
            (0, 0, 1, 0), // idle
        }));
    }

    [Test]
    public async Task A_connection_the_server_closed_while_idle_is_discarded_before_reuse()
    {
        var (_, pool) = Make();
        using var _p = pool;
        var c = await Got(Take(pool, A));
        c.Release();
        pool.Accepted[0].Close();
        await Wait.Until(() => c.Socket!.Poll(0, System.Net.Sockets.SelectMode.SelectRead), what: "EOF on the client socket");
        var next = await Got(Take(pool, A));
        Assert.That(next, Is.Not.SameAs(c));
        Assert.That(c.Closed, Is.True);
        Assert.That(pool.Opened, Is.EqualTo(2));
    }

    [Test]
    public async Task A_stale_idle_connection_is_swapped_for_the_next_idle_one_without_opening()
    {
        var (_, pool) = Make();
        using var _p = pool;
        var one = await Got(Take(pool, A));
        var two = await Got(Take(pool, A));
        one.Release();
        two.Release();
        pool.Accepted[1].Close();
        await Wait.Until(() => two.Socket!.Poll(0, System.Net.Sockets.SelectMode.SelectRead), what: "EOF on the client socket");
        var next = await Got(Take(pool, A));
        Assert.That(next, Is.SameAs(one));
        Assert.That(two.Closed, Is.True);
        Assert.That(pool.Opened, Is.EqualTo(2));
        Assert.That((pool.CurrentState.InUse, pool.CurrentState.Opening, pool.CurrentState.Idle), Is.EqualTo((1, 0, 0)));
    }

    [Test]
    public async Task A_woken_waiter_gets_a_fresh_connection_when_the_idle_one_went_stale()
    {
        var (_, pool) = Make(limit: 1);
        using var _p = pool;
        var a = await Got(Take(pool, A));
        a.Release();
        var b = await Got(Take(pool, B));
        var waiting = Take(pool, A);
        Assert.That(waiting.Value, Is.Null, "queued behind the limit");
        pool.Accepted[0].Close();
        await Wait.Until(() => a.Socket!.Poll(0, System.Net.Sockets.SelectMode.SelectRead), what: "EOF on the client socket");
        b.Close();
        var next = await Got(waiting);
        Assert.That(next, Is.Not.SameAs(a));
        Assert.That(a.Closed, Is.True);
        Assert.That(pool.Opened, Is.EqualTo(3));
        Assert.That((pool.CurrentState.InUse, pool.CurrentState.Idle), Is.EqualTo((1, 0)));
    }

    [Test]
    public async Task Disposing_during_opening_cancels_it_and_frees_the_slot()
    {
        var (_, pool) = Make(limit: 1, gated: true);
        using var _p = pool;
        var lease = Take(pool, A);
        await Wait.Until(() => pool.PendingOpens == 1);
        lease.Subscription.Dispose();
        await Wait.Until(() => pool.CurrentState.Opening == 0, what: "the opening to end");
        Assert.That(lease.Value, Is.Null);
        Assert.That(pool.Opened, Is.EqualTo(0));
        var again = Take(pool, A);
        await Wait.Until(() => pool.PendingOpens == 2, what: "the slot to be free for a new opening");
        pool.OpenNext(); // the cancelled one: nobody waits on it any more
        pool.OpenNext();
        Assert.That((await Got(again)).Closed, Is.False);
    }

    [Test]
    public async Task Close_fails_waiters_and_closes_idle_and_leased_connections()
    {
        var (_, pool) = Make(limit: 2);
        var idle = await Got(Take(pool, A));
        var leased = await Got(Take(pool, A));
        idle.Release();
        var other = await Got(Take(pool, B)); // the second slot
        var waiter = Take(pool, A);
        Assert.That(pool.CurrentState, Has.Property("Waiting").EqualTo(1).And.Property("Idle").EqualTo(1));
        pool.Close();
        Assert.That(pool.Closed, Is.True);
        Assert.That(new[] { idle.Closed, leased.Closed, other.Closed }, Is.All.True);
        Assert.That(waiter.Error, Is.InstanceOf<ClientConnectionError>().With.Message.Contains("closed"));
        var late = Take(pool, A);
        Assert.That(late.Error, Is.InstanceOf<ClientConnectionError>().With.Message.Contains("closed"));
    }

    [Test]
    public async Task Close_cancels_an_opening_and_fails_its_subscriber_at_once()
    {
        // Gated: the opening waits as a connect to a silent host would, until its SockConnect timeout.
        var (_, pool) = Make(limit: 1, gated: true);
        var lease = Take(pool, A);
        await Wait.Until(() => pool.PendingOpens == 1);
        pool.Close();
        await Wait.Until(() => lease.Error is not null || lease.Value is not null, what: "the opening to end with the close");
        Assert.That(lease.Error, Is.InstanceOf<ClientConnectionError>().With.Message.Contains("closed"));
        Assert.That(pool.CurrentState.Opening, Is.EqualTo(0));
        Assert.That(pool.Opened, Is.EqualTo(0));
    }

    [Test]
    public async Task Detach_takes_the_socket_out_of_the_pools_accounting()
    {
        var (_, pool) = Make(limit: 1);
        using var _p = pool;
        var c = await Got(Take(pool, A));
        var waiter = Take(pool, A);
        using var stream = c.Detach();
        await Wait.Until(() => waiter.Value is not null, what: "the freed slot to open a new connection");
        Assert.That(waiter.Value, Is.Not.SameAs(c));
        pool.Close();
        Assert.That(stream.CanWrite, Is.True, "closing the pool leaves a detached stream alone");
    }

    [Test]
    public async Task Detach_gives_the_read_buffer_back_and_hands_its_bytes_to_the_stream()
    {
        var (_, pool) = Make(limit: 2);
        using var _p = pool;
        var empty = await Got(Take(pool, A));
        Assert.That(empty.HoldsReadBuffer, Is.True);
        using var s1 = empty.Detach();
        Assert.That(empty.HoldsReadBuffer, Is.False, "nothing was buffered: the buffer went back to the array pool");

        var full = await Got(Take(pool, A));
        await Wait.Until(() => pool.Accepted.Count == 2, what: "the second connection accepted");
        pool.Accepted[1].Send("abc"u8);
        Assert.That(await full.FillAsync(null, CancellationToken.None), Is.GreaterThan(0));
        var got = full.Buffered.Length;
        using var s2 = full.Detach();
        Assert.That(full.HoldsReadBuffer, Is.False, "the buffered bytes moved to the stream, the buffer back to the array pool");
        var read = new byte[got];
        s2.ReadExactly(read);
        Assert.That(read, Is.EqualTo("abc"u8.ToArray()[..got]), "the stream reads the buffered bytes first");
    }
}
