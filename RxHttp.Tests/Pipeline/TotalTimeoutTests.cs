using System.Reactive;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;
using static RxHttp.Tests.Pipeline.Ticks;

namespace RxHttp.Tests.Pipeline;

[TestFixture]
public class TotalTimeoutTests : ReactiveTest
{
    private static ClientSession Session(SocketTestScheduler scheduler, ClientTimeout timeout) =>
        new(new ClientSessionOptions { Scheduler = scheduler, Timeout = timeout });

    private static async Task<(ITestableObserver<ClientResponse> Observer, IDisposable Subscription)> SubscribeAt(
        SocketTestScheduler scheduler, double seconds, IObservable<ClientResponse> request, SteppedServer server)
    {
        scheduler.AdvanceTo(S(seconds));
        var observer = scheduler.CreateObserver<ClientResponse>();
        var subscription = request.Subscribe(observer);
        await server.RequestSeen.WaitAsync(TimeSpan.FromSeconds(10));
        return (observer, subscription);
    }

    [TestCase(10.0, 5.0, 1011.0, TestName = "Total 10 s at 1000.3 s fires at 1011.0 s, not 1010.3 s")]
    [TestCase(4.5, 5.0, 1004.8, TestName = "Total 4.5 s at 1000.3 s fires at 1004.8 s (under the threshold)")]
    [TestCase(5.0, 5.0, 1006.0, TestName = "Total equal to the threshold is ceiled")]
    [TestCase(10.0, 20.0, 1010.3, TestName = "A session threshold of 20 s keeps Total 10 s exact")]
    public async Task Total_fires_at_the_ceiled_deadline_to_the_tick(double total, double threshold, double expected)
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        using var session = Session(scheduler, new ClientTimeout { Total = Span(total), CeilThreshold = Span(threshold) });
        var (observer, _) = await SubscribeAt(scheduler, 1000.3, session.Get(server.Url()), server);

        scheduler.AdvanceTo(S(expected) - 1);
        Assert.That(observer.Messages, Is.Empty, "one tick before the deadline nothing happened");

        scheduler.AdvanceTo(S(expected));
        Assert.That(observer.Messages, Has.Count.EqualTo(1));
        Assert.That(observer.Messages[0].Time, Is.EqualTo(S(expected)));
        Assert.That(observer.Messages[0].Value.Exception, Is.InstanceOf<TotalTimeoutError>().And.InstanceOf<ServerTimeoutError>());
        await server.Server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Opening: 0, Idle: 0 }, what: "the pool slot to be freed");
    }

    [Test]
    public async Task A_per_request_TimeSpan_overrides_the_session_total()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        using var session = Session(scheduler, new ClientTimeout { Total = Span(300) });
        var (observer, _) = await SubscribeAt(scheduler, 1000.3, session.Get(server.Url(), new RequestOptions { Timeout = Span(2) }), server);

        scheduler.AdvanceTo(S(1002.3) - 1);
        Assert.That(observer.Messages, Is.Empty);
        scheduler.AdvanceTo(S(1002.3));
        Assert.That(observer.Messages.Single().Value.Exception, Is.InstanceOf<TotalTimeoutError>());
        Assert.That(observer.Messages.Single().Time, Is.EqualTo(S(1002.3)));
    }

    [TestCase(null)]
    [TestCase(0.0)]
    public async Task Null_or_zero_disables_total(double? total)
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        using var session = Session(scheduler, new ClientTimeout { Total = total is null ? null : Span(total.Value) });
        var (observer, subscription) = await SubscribeAt(scheduler, 1.0, session.Get(server.Url()), server);
        Assert.That(scheduler.PendingDueTimes(), Is.Empty, "no timer was started");
        scheduler.AdvanceTo(S(100_000));
        Assert.That(observer.Messages, Is.Empty);
        subscription.Dispose();
    }

    [Test]
    public async Task TimeSpan_MaxValue_for_every_timeout_means_never_rather_than_failing_the_request()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        var never = TimeSpan.MaxValue;
        using var session = Session(scheduler, new ClientTimeout { Total = never, Connect = never, SockConnect = never, SockRead = never });
        var (observer, _) = await SubscribeAt(scheduler, 1000.3, session.Get(server.Url()), server);
        Assert.That(observer.Messages, Is.Empty, "the request was sent, not failed while arming its timers");

        await server.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await Wait.Until(() => observer.Messages.Count == 2, what: "the response");
        Assert.That(await observer.Messages[0].Value.Value.Text(), Is.EqualTo("ok"));
    }

    [Test]
    public async Task Total_covers_reading_the_body_and_aborts_it_at_the_deadline()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        using var session = Session(scheduler, new ClientTimeout { Total = Span(10) });
        var (observer, _) = await SubscribeAt(scheduler, 1000.3, session.Get(server.Url()), server);

        scheduler.AdvanceTo(S(1003));
        await server.SendAsync(SteppedServer.ChunkedHead + SteppedServer.Chunk("first;"));
        await Wait.Until(() => observer.Messages.Count == 2, what: "the response head");
        var response = observer.Messages[0].Value.Value;
        Assert.That(observer.Messages[1].Value.Kind, Is.EqualTo(NotificationKind.OnCompleted));

        var chunks = new List<string>();
        Exception? error = null;
        var reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var c in response.IterChunked()) lock (chunks) chunks.Add(System.Text.Encoding.ASCII.GetString(c.Span));
            }
            catch (Exception e) { error = e; }
        });
        await Wait.Until(() => { lock (chunks) return chunks.Count == 1; }, what: "the first chunk");
        scheduler.AdvanceTo(S(1011) - 1);
        Assert.That(response.Closed, Is.False, "the body is still being read one tick before the deadline");
        scheduler.AdvanceTo(S(1011));
        await reading.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(error, Is.InstanceOf<TotalTimeoutError>());
        Assert.That(response.Closed, Is.True);
        await server.Server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Releasing_the_response_stops_the_timer()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        using var session = Session(scheduler, new ClientTimeout { Total = Span(10) });
        var (observer, _) = await SubscribeAt(scheduler, 1000.3, session.Get(server.Url()), server);
        Assert.That(scheduler.IsPending(S(1011)), Is.True);
        Assert.That(RxHttp.Transport.TimerWheel.For(scheduler).CountDueAt(new DateTimeOffset(S(1011), TimeSpan.Zero)), Is.EqualTo(1));

        await server.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await Wait.Until(() => observer.Messages.Count == 2, what: "the response");
        var text = await observer.Messages[0].Value.Value.Text();
        Assert.That(text, Is.EqualTo("ok"));
        // The timer wheel keeps the emptied whole-second action for later timers; the request's timer is gone.
        Assert.That(RxHttp.Transport.TimerWheel.For(scheduler).CountDueAt(new DateTimeOffset(S(1011), TimeSpan.Zero)), Is.Zero,
            "the body was read to the end, so the connection was released and the timer cancelled");
        scheduler.AdvanceTo(S(1012));
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1));
        scheduler.AdvanceTo(S(2000));
        Assert.That(observer.Messages, Has.Count.EqualTo(2));
    }

    [Test]
    public void Operator_alone_in_virtual_time_marbles()
    {
        var scheduler = new SocketTestScheduler();
        var never = Observable.Never<ClientResponse>();
        var results = scheduler.Start(() => never.TotalTimeout(TimeSpan.FromTicks(300), TimeSpan.FromSeconds(5), scheduler));
        Assert.That(results.Messages, Has.Count.EqualTo(1));
        Assert.That(results.Messages[0].Time, Is.EqualTo(500));
        Assert.That(results.Messages[0].Value.Exception, Is.InstanceOf<TotalTimeoutError>());

        var scheduler2 = new SocketTestScheduler();
        var done = scheduler2.Start(() => Observable.Empty<ClientResponse>().Delay(TimeSpan.FromTicks(100), scheduler2).TotalTimeout(TimeSpan.FromTicks(300), TimeSpan.FromSeconds(5), scheduler2));
        Assert.That(done.Messages.Select(m => (m.Time, m.Value.Kind)), Is.EqualTo(new[] { (300L, NotificationKind.OnCompleted) }));
        Assert.That(scheduler2.PendingDueTimes(), Is.Empty, "completion cancels the timer");
    }
}
