using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;
using static RxHttp.Tests.Pipeline.Ticks;

namespace RxHttp.Tests.Pipeline;

[TestFixture]
public class RetryTests : ReactiveTest
{
    private KestrelServer _server = null!;
    private int _hits;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.Map("/flaky/{failures:int}", (HttpContext c, int failures) =>
            Interlocked.Increment(ref _hits) <= failures ? Results.StatusCode(503) : Results.Text("ok"));
        app.MapGet("/busy", (HttpContext c) =>
        {
            Interlocked.Increment(ref _hits);
            c.Response.Headers.RetryAfter = "7";
            return Results.StatusCode(429);
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [SetUp]
    public void Reset() => _hits = 0;

    private static ClientSession Session(SocketTestScheduler scheduler, RetryOptions options) =>
        new(new ClientSessionOptions { Scheduler = scheduler, Middlewares = new[] { RetryOperator.Middleware(options, scheduler) } });

    [Test]
    public async Task Backoff_doubles_on_the_scheduler_to_the_tick()
    {
        var scheduler = new SocketTestScheduler();
        using var session = Session(scheduler, new RetryOptions { MaxAttempts = 4, BaseDelay = Span(1), Random = () => 0 });
        var observer = scheduler.CreateObserver<ClientResponse>();
        session.Get(_server.Url("flaky/3")).Subscribe(observer);

        foreach (var (hits, due) in new[] { (1, S(1)), (2, S(3)), (3, S(7)) })
        {
            await Wait.Until(() => scheduler.IsPending(due), what: $"the retry timer at {due}");
            Assert.That(Volatile.Read(ref _hits), Is.EqualTo(hits));
            scheduler.AdvanceTo(due - 1);
            Assert.That(Volatile.Read(ref _hits), Is.EqualTo(hits), "no attempt before the delay");
            scheduler.AdvanceTo(due);
        }
        await Wait.Until(() => observer.Messages.Count == 2, what: "the final response");
        Assert.That(observer.Messages[0].Value.Value!.Status, Is.EqualTo(200));
        Assert.That(_hits, Is.EqualTo(4));
    }

    [Test]
    public async Task Gives_up_after_max_attempts_with_the_last_response_and_jitter_shortens_delays()
    {
        var scheduler = new SocketTestScheduler();
        using var session = Session(scheduler, new RetryOptions { MaxAttempts = 2, BaseDelay = Span(2), Jitter = 0.5, Random = () => 0.5 });
        var observer = scheduler.CreateObserver<ClientResponse>();
        session.Get(_server.Url("flaky/10")).Subscribe(observer);
        await Wait.Until(() => scheduler.IsPending(S(1.5)), what: "a jittered 1.5 s delay (2 s - 2 s * 0.5 * 0.5)");
        scheduler.AdvanceTo(S(1.5));
        await Wait.Until(() => observer.Messages.Count == 2, what: "the last response");
        Assert.That(observer.Messages[0].Value.Value!.Status, Is.EqualTo(503));
        Assert.That(_hits, Is.EqualTo(2));
    }

    [Test]
    public async Task Retry_after_is_respected_and_post_is_not_retried()
    {
        var scheduler = new SocketTestScheduler();
        using var session = Session(scheduler, new RetryOptions { MaxAttempts = 2, BaseDelay = Span(1), Random = () => 0 });
        var observer = scheduler.CreateObserver<ClientResponse>();
        session.Get(_server.Url("busy")).Subscribe(observer);
        await Wait.Until(() => scheduler.IsPending(S(7)), what: "the Retry-After delay");
        scheduler.AdvanceTo(S(7));
        await Wait.Until(() => observer.Messages.Count == 2);
        Assert.That(_hits, Is.EqualTo(2));

        _hits = 0;
        var post = await session.Post(_server.Url("flaky/5"));
        Assert.That(post.Status, Is.EqualTo(503));
        Assert.That(_hits, Is.EqualTo(1), "POST is not idempotent");
    }

    [Test]
    public void Connection_errors_are_retried_marbles()
    {
        var scheduler = new SocketTestScheduler();
        var attempts = 0;
        RequestHandler failing = _ => Observable.Defer(() =>
        {
            attempts++;
            return Observable.Throw<ClientResponse>(new ServerDisconnectedError());
        });
        var handler = failing.WithRetry(new RetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromTicks(100), Random = () => 0 }, scheduler);
        var results = scheduler.Start(() => handler(new ClientRequest("GET", Url.Parse("http://x/"))));
        Assert.That(results.Messages.Single().Time, Is.EqualTo(200 + 100 + 200));
        Assert.That(results.Messages.Single().Value.Exception, Is.InstanceOf<ServerDisconnectedError>());
        Assert.That(attempts, Is.EqualTo(3));
    }

    [Test]
    public void Retry_after_parses_seconds_and_dates()
    {
        var now = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.That(RetryOperator.RetryAfter("120", now), Is.EqualTo(TimeSpan.FromSeconds(120)));
        Assert.That(RetryOperator.RetryAfter("Mon, 01 Jan 2024 00:00:30 GMT", now), Is.EqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(RetryOperator.RetryAfter("soon", now), Is.Null);
    }
}
