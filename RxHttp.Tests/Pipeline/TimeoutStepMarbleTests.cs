using System.Reactive.Linq;
using NUnit.Framework;
using static RxHttp.Tests.Pipeline.Marble;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// The timeouts in virtual time, to the tick: Total (the engine's deadline), Connect and SockConnect (the lease and the
/// connect attempt) and SockRead (each read), each at the whole second above <c>CeilThreshold</c> and exact below it,
/// with the subscription of what it cut short (the hop, the connect, the connection) ending at that same tick.
/// </summary>
[TestFixture]
public class TimeoutStepMarbleTests : ReactiveTest
{
    private static readonly TimeSpan Threshold = TimeSpan.FromSeconds(5);

    // Subscribed at tick 200: a deadline at or over the threshold is rounded up to the next whole second.
    [TestCase(6.0, 7.0, TestName = "Total of 6 s (over the threshold) fires at the ceiled 7 s")]
    [TestCase(5.0, 6.0, TestName = "Total of 5 s (at the threshold) fires at the ceiled 6 s")]
    [TestCase(4.0, 4.00002, TestName = "Total of 4 s (under the threshold) fires at exactly 200 ticks + 4 s")]
    public void Total_fails_a_hop_that_never_answers_and_unsubscribes_it_at_that_tick(double total, double firesAt)
    {
        foreach (var throughHandler in new[] { false, true })
        {
            var scheduler = new TestScheduler();
            var hop = scheduler.CreateColdObservable<ClientResponse>();
            var hops = new ScriptedHops(hop);

            var res = scheduler.Start(() => Call(hops.Plan(throughHandler), new ClientRequest("GET", Url.Parse("http://h/")),
                total: TimeSpan.FromSeconds(total), ceilThreshold: Threshold, scheduler: scheduler).Outcome(), 100, 200, S(60));

            res.Messages.AssertEqual(OnError<string>(S(firesAt), e => e is TotalTimeoutError));
            hop.Subscriptions.AssertEqual(Subscribe(200, S(firesAt)));
        }
    }

    [Test]
    public void Total_spans_every_redirect_hop_from_the_subscription([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(OnNext(S(3), Head("http://h/a", 302, ("Location", "/b"))));
        var hop2 = scheduler.CreateColdObservable<ClientResponse>();
        var hops = new ScriptedHops(hop1, hop2);

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler), new ClientRequest("GET", Url.Parse("http://h/a")),
            total: TimeSpan.FromSeconds(4), ceilThreshold: Threshold, scheduler: scheduler).Outcome(), 100, 200, S(60));

        res.Messages.AssertEqual(OnError<string>(200 + S(4), e => e is TotalTimeoutError));
        hop1.Subscriptions.AssertEqual(Subscribe(200, 200 + S(3)));
        hop2.Subscriptions.AssertEqual(Subscribe(200 + S(3), 200 + S(4)));
    }

    [Test]
    public void A_response_before_the_deadline_stops_it([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop = scheduler.CreateColdObservable(OnNext(30, Head("http://h/", 200)), OnCompleted<ClientResponse>(30));
        var hops = new ScriptedHops(hop);

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler), new ClientRequest("GET", Url.Parse("http://h/")),
            total: TimeSpan.FromSeconds(4), ceilThreshold: Threshold, scheduler: scheduler).Outcome(), 100, 200, S(60));

        res.Messages.AssertEqual(OnNext(230, "200 /"), OnCompleted<string>(230));
        hop.Subscriptions.AssertEqual(Subscribe(200, 230));
    }

    // The whole exchange over a virtual connector: the connect observable never emits (a connect that hangs).
    private static (ITestableObserver<string> Result, ITestableObservable<string> Connecting) Stalled(ClientTimeout timeout)
    {
        var scheduler = new TestScheduler();
        var connecting = scheduler.CreateColdObservable<string>();
        var wire = new VirtualWire(scheduler, _ => scheduler.CreateHotObservable<string>(), _ => connecting);
        var plan = new CallPlan(null, wire.Exchange(), null, Auth: false, new RedirectOptions());
        var request = new ClientRequest("GET", Url.Parse("http://h/")) { Timeout = timeout with { CeilThreshold = Threshold }, Scheduler = scheduler };
        var res = scheduler.Start(() => Call(plan, request).Outcome(), 100, 200, S(60));
        return (res, connecting);
    }

    // Connect bounds the wait for a slot plus the opening; SockConnect each connect attempt: both end a hanging connect.
    [TestCase(true, 6.0, 7.0, TestName = "Connect of 6 s fires at the ceiled 7 s")]
    [TestCase(true, 4.0, 4.00002, TestName = "Connect of 4 s fires at exactly 200 ticks + 4 s")]
    [TestCase(false, 6.0, 7.0, TestName = "SockConnect of 6 s fires at the ceiled 7 s")]
    [TestCase(false, 2.0, 2.00002, TestName = "SockConnect of 2 s fires at exactly 200 ticks + 2 s")]
    public void A_hanging_connect_fails_and_is_cancelled_at_that_tick(bool connect, double seconds, double firesAt)
    {
        var limit = TimeSpan.FromSeconds(seconds);
        var (res, connecting) = Stalled(connect ? new ClientTimeout { Connect = limit } : new ClientTimeout { SockConnect = limit });
        res.Messages.AssertEqual(OnError<string>(S(firesAt), e => e is ConnectionTimeoutError));
        connecting.Subscriptions.AssertEqual(Subscribe(200, S(firesAt)));
    }

    [TestCase(6.0, 7.0, TestName = "SockRead of 6 s on a silent server fires at the ceiled 7 s")]
    [TestCase(3.0, 3.00002, TestName = "SockRead of 3 s on a silent server fires at exactly 200 ticks + 3 s")]
    public void SockRead_fails_a_silent_server_and_closes_the_connection_at_that_tick(double sockRead, double firesAt)
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable<string>();
        var wire = new VirtualWire(scheduler, _ => server);
        var plan = new CallPlan(null, wire.Exchange(), null, Auth: false, new RedirectOptions());
        var request = new ClientRequest("GET", Url.Parse("http://h/"))
        {
            Timeout = new ClientTimeout { SockRead = TimeSpan.FromSeconds(sockRead), CeilThreshold = Threshold },
            Scheduler = scheduler,
        };

        var res = scheduler.Start(() => Call(plan, request).Outcome(), 100, 200, S(60));

        res.Messages.AssertEqual(OnError<string>(S(firesAt), e => e is SocketTimeoutError));
        server.Subscriptions.AssertEqual(Subscribe(200, S(firesAt)));
        Assert.That(wire.Streams.Single().WrittenText, Does.StartWith("GET / HTTP/1.1\r\n"));
    }

    [Test]
    public void SockRead_measures_the_gap_after_the_last_bytes_of_the_body()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(
            OnNext(10, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab"),
            OnNext(S(2), "cd"));
        var wire = new VirtualWire(scheduler, _ => server);
        var plan = new CallPlan(null, wire.Exchange(), null, Auth: false, new RedirectOptions());
        var request = new ClientRequest("GET", Url.Parse("http://h/"))
        {
            Timeout = new ClientTimeout { SockRead = TimeSpan.FromSeconds(3), CeilThreshold = Threshold },
            Scheduler = scheduler,
        };

        var res = scheduler.Start(() => Call(plan, request).SelectMany(r => r.Read().Select(b => b.Length)), 100, 200, S(60));

        // "cd" at 200 + 2 s re-arms the 3 s wait: the timeout is at 200 + 5 s, not 200 + 3 s.
        res.Messages.AssertEqual(OnError<int>(200 + S(5), e => e is SocketTimeoutError));
        server.Subscriptions.AssertEqual(Subscribe(200, 200 + S(5)));
    }
}
