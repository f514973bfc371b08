using System.Reactive.Concurrency;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// PooledConnectionLifetime in virtual time through RxHttp.Testing's scripted server: a connection is reused until
/// its lifetime ends, an idle one is closed at that tick, and one busy then is closed when its response is done.
/// </summary>
public class ConnectionLifetimeTests : ReactiveTest
{
    private const string Url = "https://api.example.test/item";
    private static long S(double seconds) => TimeSpan.FromSeconds(seconds).Ticks;

    private static FakeHttp Fake(TestScheduler scheduler, TimeSpan? lifetime) =>
        new(new ConnectorOptions { PooledConnectionLifetime = lifetime, KeepaliveTimeout = TimeSpan.FromMinutes(5), Scheduler = scheduler });

    private static void GetAt(TestScheduler scheduler, ClientSession session, double seconds) =>
        scheduler.ScheduleAbsolute(S(seconds), () => { session.Get(Url).SelectMany(r => r.Text()).Subscribe(_ => { }); });

    [Test]
    public void An_idle_connection_is_closed_as_its_lifetime_ends_and_the_next_request_opens_another()
    {
        var scheduler = new TestScheduler();
        using var http = Fake(scheduler, TimeSpan.FromSeconds(10));
        using var session = http.CreateSession(scheduler);
        http.When("GET", Url).Respond(200, "ok");
        GetAt(scheduler, session, 0);
        GetAt(scheduler, session, 9);
        // The scripted connection opens one tick after the request starts, so its 10 s end at 10 s and a tick.
        scheduler.AdvanceTo(S(10));
        Assert.That((http.ConnectionsOpened, session.Connector.CurrentState.Idle), Is.EqualTo((1, 1)), "reused at 9 s");
        scheduler.AdvanceTo(S(10) + 1);
        Assert.That(session.Connector.CurrentState.Open, Is.Zero, "closed at its lifetime's end, long before the keep-alive's 5 min");
        GetAt(scheduler, session, 11);
        scheduler.AdvanceTo(S(11));
        Assert.That(http.ConnectionsOpened, Is.EqualTo(2));
    }

    [Test]
    public void A_connection_busy_when_its_lifetime_ends_is_closed_after_its_response()
    {
        var scheduler = new TestScheduler();
        using var http = Fake(scheduler, TimeSpan.FromSeconds(10));
        using var session = http.CreateSession(scheduler);
        http.When("GET", Url).Respond(200, "fast").Respond(FakeResponse.Status(200).Text("slow").After(TimeSpan.FromSeconds(3)));
        GetAt(scheduler, session, 0);
        GetAt(scheduler, session, 9);
        scheduler.AdvanceTo(S(12) - 1);
        Assert.That((http.ConnectionsOpened, session.Connector.CurrentState.InUse), Is.EqualTo((1, 1)), "the opened connection serves the slow request too");
        scheduler.AdvanceTo(S(12));
        Assert.That(session.Connector.CurrentState.Open, Is.Zero, "done at 12 s, past its lifetime: closed, not pooled");
    }

    [Test]
    public void Without_a_lifetime_the_keep_alive_alone_decides_and_a_lifetime_must_be_positive()
    {
        var scheduler = new TestScheduler();
        using var http = Fake(scheduler, null);
        using var session = http.CreateSession(scheduler);
        http.When("GET", Url).Respond(200, "ok");
        GetAt(scheduler, session, 0);
        GetAt(scheduler, session, 200);
        scheduler.AdvanceTo(S(201));
        Assert.That((http.ConnectionsOpened, session.Connector.CurrentState.Idle), Is.EqualTo((1, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FakeHttp(new ConnectorOptions { PooledConnectionLifetime = TimeSpan.Zero }).Dispose());
    }
}
