using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// <see cref="RequestOptions.Scheduler"/>: every timer of one request runs on its own clock, not the session's. Each
/// test has two TestSchedulers: advancing the session's by hours changes nothing, advancing the request's decides.
/// </summary>
public class RequestSchedulerTests : ReactiveTest
{
    private const string Api = "https://api.example.test";

    private static long S(double seconds) => (long)(seconds * TimeSpan.TicksPerSecond);

    private static (FakeHttp Http, TestScheduler SessionClock, TestScheduler RequestClock) Fake() =>
        (new FakeHttp(), new TestScheduler(), new TestScheduler());

    // Runs the request on its own clock: subscribed at 0 there, the session's clock moved by an hour first.
    private static ITestableObserver<T> RunOnRequestClock<T>(TestScheduler sessionClock, TestScheduler requestClock, IObservable<T> source, TimeSpan until)
    {
        var observer = requestClock.CreateObserver<T>();
        using var subscription = source.Subscribe(observer);
        sessionClock.AdvanceBy(TimeSpan.FromHours(1).Ticks);
        Assert.That(observer.Messages.Where(m => m.Value.Kind != System.Reactive.NotificationKind.OnNext), Is.Empty,
            "the session's clock decides nothing for this request");
        requestClock.AdvanceBy(until.Ticks);
        return observer;
    }

    [Test]
    public void The_Total_timeout_fires_on_the_request_clock_at_the_ceiled_second()
    {
        var (http, sessionClock, requestClock) = Fake();
        using var _ = http;
        http.When(Api + "/*").Fail(FakeFault.Stall);
        using var session = http.CreateSession(sessionClock, new ClientTimeout { Total = TimeSpan.FromSeconds(30) });
        requestClock.AdvanceTo(S(0.25)); // 30 s ≥ CeilThreshold: 30.25 s is rounded up to 31 s on the request's clock
        var res = RunOnRequestClock(sessionClock, requestClock, session.Get(Api + "/x", new RequestOptions { Scheduler = requestClock }), TimeSpan.FromSeconds(40));

        Assert.That(res.Messages.Single().Time, Is.EqualTo(S(31)));
        Assert.That(res.Messages.Single().Value.Exception, Is.TypeOf<TotalTimeoutError>());
        http.ShouldHaveCalled(Api + "/x").Aborted().Times(1);
    }

    [Test]
    public void Without_the_option_the_session_clock_decides_as_before()
    {
        var (http, sessionClock, requestClock) = Fake();
        using var _ = http;
        http.When(Api + "/*").Fail(FakeFault.Stall);
        using var session = http.CreateSession(sessionClock, new ClientTimeout { Total = TimeSpan.FromSeconds(30) });
        var observer = sessionClock.CreateObserver<ClientResponse>();
        using var subscription = session.Get(Api + "/x").Subscribe(observer);
        requestClock.AdvanceBy(TimeSpan.FromHours(1).Ticks);
        Assert.That(observer.Messages, Is.Empty);
        sessionClock.AdvanceBy(TimeSpan.FromSeconds(30).Ticks);
        Assert.That(observer.Messages.Single().Value.Exception, Is.TypeOf<TotalTimeoutError>());
    }

    [Test]
    public void SockRead_on_the_body_fires_on_the_request_clock_exactly_below_the_threshold()
    {
        var (http, sessionClock, requestClock) = Fake();
        using var _ = http;
        http.When(Api + "/*").Respond(FakeResponse.Status(200).Chunk(TimeSpan.Zero, "x").NeverEnds());
        using var session = http.CreateSession(sessionClock, new ClientTimeout { SockRead = TimeSpan.FromSeconds(3), Total = null });
        requestClock.AdvanceTo(S(0.25));
        var res = RunOnRequestClock(sessionClock, requestClock,
            session.Get(Api + "/feed", new RequestOptions { Scheduler = requestClock, StreamResponse = true }).SelectMany(r => r.Content.Select(c => c.Length)),
            TimeSpan.FromSeconds(10));

        Assert.That(res.Messages.Select(m => m.Time), Is.EqualTo(new[] { S(0.25), S(3.25) }), "3 s < CeilThreshold: exact, from the last byte");
        Assert.That(res.Messages[1].Value.Exception, Is.TypeOf<SocketTimeoutError>());
    }

    // SockConnect times the connect the request opens (the connector's timer), Connect the request's wait for it.
    [TestCase(false, 2, TestName = "SockConnect of the connect the request opens fires on the request clock")]
    [TestCase(true, 4, TestName = "Connect fires on the request clock")]
    public void A_hanging_connect_times_out_on_the_request_clock(bool connect, int seconds)
    {
        var (http, sessionClock, requestClock) = Fake();
        using var _ = http;
        http.When(Api + "/*").Fail(FakeFault.ConnectStall);
        var limit = TimeSpan.FromSeconds(seconds);
        using var session = http.CreateSession(sessionClock, connect ? new ClientTimeout { Connect = limit } : new ClientTimeout { SockConnect = limit });
        var res = RunOnRequestClock(sessionClock, requestClock, session.Get(Api + "/x", new RequestOptions { Scheduler = requestClock }), TimeSpan.FromSeconds(10));

        Assert.That(res.Messages.Single().Time, Is.EqualTo(S(seconds)));
        Assert.That(res.Messages.Single().Value.Exception, Is.TypeOf<ConnectionTimeoutError>());
    }

    [Test]
    public void Redirect_hops_run_on_the_request_clock_and_the_Total_deadline_spans_them()
    {
        var (http, sessionClock, requestClock) = Fake();
        using var _ = http;
        http.When(Api + "/a").RedirectTo(Api + "/b");
        http.When(Api + "/b").Fail(FakeFault.Stall);
        using var session = http.CreateSession(sessionClock, new ClientTimeout { Total = TimeSpan.FromSeconds(2) });
        var res = RunOnRequestClock(sessionClock, requestClock, session.Get(Api + "/a", new RequestOptions { Scheduler = requestClock }), TimeSpan.FromSeconds(10));

        Assert.That(res.Messages.Single().Time, Is.EqualTo(S(2)));
        Assert.That(res.Messages.Single().Value.Exception, Is.TypeOf<TotalTimeoutError>());
        http.ShouldHaveCalled(Api + "/b").Aborted().Times(1);
    }

    [Test]
    public void A_session_retry_middleware_without_a_scheduler_backs_off_on_the_request_clock()
    {
        var (http, sessionClock, requestClock) = Fake();
        using var _ = http;
        http.When(Api + "/flaky").Respond(503).Respond(503).Respond(200, "ok");
        using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = http.Connector,
            ConnectorOwner = false,
            Scheduler = sessionClock,
            Middlewares = [RetryOperator.Middleware(new RetryOptions { BaseDelay = TimeSpan.FromSeconds(1), Jitter = 0 })],
        });
        var res = RunOnRequestClock(sessionClock, requestClock,
            session.Get(Api + "/flaky", new RequestOptions { Scheduler = requestClock }).Select(r => r.Status), TimeSpan.FromSeconds(10));

        // 1 s, then 2 s: the third attempt at 3 s.
        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(S(3), 200), OnCompleted<int>(S(3)) }));
        http.ShouldHaveCalled(Api + "/flaky").Times(3);
    }

    [Test]
    public void WithRetry_without_a_scheduler_takes_the_request_clock()
    {
        var clock = new TestScheduler();
        var attempts = new List<long>();
        RequestHandler failing = _ => Observable.Defer(() =>
        {
            attempts.Add(clock.Clock);
            return Observable.Throw<ClientResponse>(new ServerDisconnectedError("gone"));
        });
        var handler = failing.WithRetry(new RetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromTicks(100), Jitter = 0 });
        var request = new ClientRequest("GET", Url.Parse(Api + "/")) { Scheduler = clock };

        var res = clock.Start(() => handler(request));

        Assert.That(attempts, Is.EqualTo(new[] { 200L, 300L, 500L }));
        Assert.That(res.Messages.Single().Time, Is.EqualTo(500));
        Assert.That(res.Messages.Single().Value.Exception, Is.TypeOf<ServerDisconnectedError>());
    }

    [Test]
    public void The_request_clock_follows_redirect_hops_and_middleware_copies()
    {
        var clock = new TestScheduler();
        var request = new ClientRequest("GET", Url.Parse(Api + "/")) { Scheduler = clock };
        Assert.That(request.With(url: Url.Parse(Api + "/b")).Scheduler, Is.SameAs(clock));
    }

    [Test]
    public void A_websocket_heartbeat_runs_on_the_websocket_options_clock()
    {
        var (http, sessionClock, wsClock) = Fake();
        using var _ = http;
        http.WhenWebSocket("wss://api.example.test/ws", new FakeWebSocketScript().IgnorePings());
        using var session = http.CreateSession(sessionClock);
        var ws = session.WsConnectAsync("wss://api.example.test/ws",
            new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(2), Scheduler = wsClock }).GetAwaiter().GetResult();
        sessionClock.AdvanceBy(TimeSpan.FromHours(1).Ticks);
        Assert.That(http.WebSockets.Single().Received.Count(f => f.Opcode == 9), Is.Zero);
        wsClock.AdvanceBy(TimeSpan.FromSeconds(2).Ticks);
        Assert.That(http.WebSockets.Single().Received.Count(f => f.Opcode == 9), Is.EqualTo(1), "the heartbeat PING");
        wsClock.AdvanceBy(TimeSpan.FromSeconds(1).Ticks);
        Assert.That(ws.CloseCode, Is.EqualTo(1006), "no PONG within half the heartbeat");
        Assert.That(ws.Exception, Is.TypeOf<ServerTimeoutError>());
    }
}
