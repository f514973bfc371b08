using System.Globalization;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// The retry step through RxHttp.Testing's scripted server on Microsoft.Reactive.Testing's TestScheduler: every
/// attempt and wait to the tick, Retry-After in both forms, and which requests may be sent again. No socket.
/// </summary>
public class RetryVirtualTimeTests : ReactiveTest
{
    private const string Url = "https://api.example.test/items";
    private static long S(double seconds) => TimeSpan.FromSeconds(seconds).Ticks;

    private static ClientSession Session(FakeHttp http, TestScheduler scheduler, RetryOptions options) => new(new ClientSessionOptions
    {
        Connector = http.Connector,
        ConnectorOwner = false,
        Scheduler = scheduler,
        Timeout = ClientTimeout.None,
        Middlewares = new[] { RetryOperator.Middleware(options) }, // on the session's scheduler
    });

    private static RetryOptions Exact(int attempts = 3) => new() { MaxAttempts = attempts, BaseDelay = TimeSpan.FromSeconds(1), Random = () => 0 };

    private static List<long> CallTicks(FakeHttp http) => http.Calls.Select(c => c.Time.UtcTicks).ToList();

    [Test]
    public void A_503_then_200_is_retried_after_the_doubling_backoff_to_the_tick()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(503).Respond(503).Respond(200, "ok");
        using var session = Session(http, scheduler, Exact());
        var results = scheduler.CreateObserver<int>();
        session.Get(Url).Select(r => r.Status).Subscribe(results);

        scheduler.AdvanceTo(S(3) - 1);
        Assert.That(CallTicks(http), Is.EqualTo(new[] { 0, S(1) }));
        Assert.That(results.Messages, Is.Empty);
        scheduler.AdvanceTo(S(3));
        Assert.That(CallTicks(http), Is.EqualTo(new[] { 0, S(1), S(3) }));
        Assert.That(results.Messages, Is.EqualTo(new[] { OnNext(S(3), 200), OnCompleted<int>(S(3)) }));
    }

    [Test]
    public void Retry_after_in_seconds_replaces_the_backoff_and_is_capped_by_MaxDelay()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(FakeResponse.Status(503).Header("Retry-After", "7"))
            .Respond(FakeResponse.Status(429).Header("Retry-After", "3600")).Respond(200);
        using var session = Session(http, scheduler, Exact() with { MaxDelay = TimeSpan.FromSeconds(60) });
        var results = scheduler.CreateObserver<int>();
        session.Get(Url).Select(r => r.Status).Subscribe(results);
        scheduler.AdvanceTo(S(100));
        Assert.That(CallTicks(http), Is.EqualTo(new[] { 0, S(7), S(67) }), "7 s as asked, then an hour capped at 60 s");
        Assert.That(results.Messages[0], Is.EqualTo(OnNext(S(67), 200)));
    }

    [TestCase("9223372036854775808")]   // long.MaxValue + 1
    [TestCase("99999999999999999999999999")]
    public void Retry_after_in_seconds_too_large_for_a_long_waits_MaxDelay_not_the_backoff(string seconds)
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(FakeResponse.Status(429).Header("Retry-After", seconds)).Respond(200);
        using var session = Session(http, scheduler, Exact() with { MaxDelay = TimeSpan.FromSeconds(60) });
        session.Get(Url).Subscribe(r => r.Release());
        scheduler.AdvanceTo(S(100));
        Assert.That(CallTicks(http), Is.EqualTo(new[] { 0, S(60) }), "a very long wait, capped; not the 1 s backoff");
    }

    [TestCase("r")]
    [TestCase("dddd, dd-MMM-yy HH:mm:ss 'GMT'")]
    [TestCase("ddd MMM d HH:mm:ss yyyy")]
    public void Retry_after_as_an_http_date_is_measured_on_the_scheduler_clock(string format)
    {
        var scheduler = new TestScheduler();
        var start = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        scheduler.AdvanceTo(start.UtcTicks);
        var date = start.AddSeconds(30).ToString(format, CultureInfo.InvariantCulture);
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(FakeResponse.Status(503).Header("Retry-After", date)).Respond(200);
        using var session = Session(http, scheduler, Exact());
        session.Get(Url).Subscribe(r => r.Release());
        scheduler.AdvanceBy(S(60));
        Assert.That(http.Calls.Select(c => c.Time - start), Is.EqualTo(new[] { TimeSpan.Zero, TimeSpan.FromSeconds(30) }), date);
    }

    [Test]
    public void Post_is_sent_once_unless_allowed_and_then_its_body_is_sent_again_unchanged()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("POST", Url).Respond(503).Respond(503).Respond(201);
        using (var session = Session(http, scheduler, Exact()))
        {
            var once = scheduler.CreateObserver<int>();
            session.Post(Url, new RequestOptions { Json = new { n = 1 } }).Select(r => r.Status).Subscribe(once);
            scheduler.AdvanceBy(S(10));
            Assert.That(once.Messages[0].Value.Value, Is.EqualTo(503), "POST is not idempotent: the 503 is passed on");
            Assert.That(http.Calls, Has.Count.EqualTo(1));
        }
        using (var session = Session(http, scheduler, Exact() with { RetryNonIdempotent = true }))
        {
            var again = scheduler.CreateObserver<int>();
            session.Post(Url, new RequestOptions { Json = new { n = 2 } }).Select(r => r.Status).Subscribe(again);
            scheduler.AdvanceBy(S(10));
            Assert.That(again.Messages[0].Value.Value, Is.EqualTo(201));
            Assert.That(http.Calls.Skip(1).Select(c => c.BodyText), Is.EqualTo(new[] { "{\"n\":2}", "{\"n\":2}" }));
        }
    }

    private sealed class OneShotStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks()
    {
        await Task.CompletedTask;
        yield return "chunk"u8.ToArray();
    }

    [Test]
    public void A_seekable_stream_is_rewound_for_the_retry_and_a_one_shot_body_is_never_retried()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        foreach (var name in new[] { "seekable", "stream", "chunks" }) http.When("PUT", $"{Url}/{name}").Respond(503).Respond(200);
        using var session = Session(http, scheduler, Exact());
        var statuses = new Dictionary<string, int>();
        void Put(string name, object data) =>
            session.Put($"{Url}/{name}", new RequestOptions { Data = data }).Subscribe(r => { statuses[name] = r.Status; r.Release(); });

        Put("seekable", new MemoryStream("abc"u8.ToArray()));
        scheduler.AdvanceBy(S(10));
        Put("stream", new OneShotStream("abc"u8.ToArray()));
        scheduler.AdvanceBy(S(10));
        Put("chunks", Chunks());
        scheduler.AdvanceBy(S(10));

        Assert.That(statuses.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"), Is.EqualTo(new[] { "chunks 503", "seekable 200", "stream 503" }));
        Assert.That(http.Calls.Select(c => $"{c.Url[(Url.Length + 1)..]} {c.BodyText}"),
            Is.EqualTo(new[] { "seekable abc", "seekable abc", "stream abc", "chunks chunk" }), "the one-shot bodies were sent once");
    }

    [Test]
    public void A_transient_predicate_that_throws_fails_the_request_and_releases_the_response_it_was_given()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(503, "busy").Respond(200, "ok");
        var options = Exact() with { Transient = (r, _) => r?.Status == 503 ? throw new FormatException("the predicate's own bug") : false };
        // StreamResponse: the 503's body stays on its connection until the response is released.
        using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = http.Connector, ConnectorOwner = false, Scheduler = scheduler, Timeout = ClientTimeout.None, StreamResponse = true,
            Middlewares = new[] { RetryOperator.Middleware(options) },
        });
        var failed = scheduler.CreateObserver<int>();
        session.Get(Url).Select(r => r.Status).Subscribe(failed);
        scheduler.AdvanceTo(S(1));
        Assert.That(failed.Messages.Single().Value.Exception, Is.InstanceOf<FormatException>());

        var next = scheduler.CreateObserver<int>();
        session.Get(Url).Select(r => r.Status).Subscribe(next);
        scheduler.AdvanceTo(S(2));
        Assert.That(next.Messages[0].Value.Value, Is.EqualTo(200));
        Assert.That(http.ConnectionsOpened, Is.EqualTo(1), "the 503's connection went back to the pool instead of staying leased");
    }

    [Test]
    public void Disposing_during_the_wait_sends_nothing_more_and_releases_the_failed_response()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(503).Respond(200);
        using var session = Session(http, scheduler, Exact());
        var subscription = session.Get(Url).Subscribe(r => r.Release());
        scheduler.AdvanceTo(S(0.5));
        subscription.Dispose();
        scheduler.AdvanceTo(S(10));
        Assert.That(http.Calls, Has.Count.EqualTo(1));
        var next = scheduler.CreateObserver<int>();
        session.Get(Url).Select(r => r.Status).Subscribe(next);
        Assert.That(next.Messages[0].Value.Value, Is.EqualTo(200));
        Assert.That(http.ConnectionsOpened, Is.EqualTo(1), "the 503's connection went back to the pool and was reused");
    }
}
