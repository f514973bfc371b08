using System.Reactive.Linq;
using Microsoft.Reactive.Testing;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Samples.Tests;

/// <summary>
/// How a user tests their own service with RxHttp.Testing and TestScheduler: debounce, a superseded request's
/// cancellation, a timeout and a retry backoff, all decided in virtual time with no socket.
/// </summary>
public class SampleServiceTests : ReactiveTest
{
    private const string Search = "https://search.example.test/search";
    private static long Ms(double ms) => TimeSpan.FromMilliseconds(ms).Ticks;
    private static long S(double seconds) => TimeSpan.FromSeconds(seconds).Ticks;

    [Test]
    public void Typing_is_debounced_and_only_the_settled_query_is_sent()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Search + "?q=rx").Respond(FakeResponse.Status(200).Text("rx results").After(TimeSpan.FromSeconds(1)));
        using var session = http.CreateSession(scheduler);
        var typing = scheduler.CreateHotObservable(OnNext(Ms(100), "r"), OnNext(Ms(200), "rx"));

        var res = scheduler.Start(() => new SearchViewModel(session, scheduler).Results(typing), Created, Subscribed, S(10));

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(Ms(200 + 300) + S(1), "rx results") }));
        Assert.That(typing.Subscriptions, Is.EqualTo(new[] { Subscribe(Subscribed, S(10)) }));
        http.ShouldHaveCalled(Search + "*").WithQueryParam("q", "rx").Times(1);
        http.ShouldNotHaveCalled(Search + "?q=r");
    }

    [Test]
    public void A_newer_query_cancels_the_request_it_supersedes()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Search + "?q=rx").Respond(FakeResponse.Status(200).Text("rx results").After(TimeSpan.FromSeconds(2)));
        http.When("GET", Search + "?q=rxjs").Respond(200, "rxjs results");
        using var session = http.CreateSession(scheduler);
        var typing = scheduler.CreateHotObservable(OnNext(Ms(100), "rx"), OnNext(Ms(1000), "rxjs"));

        var res = scheduler.Start(() => new SearchViewModel(session, scheduler).Results(typing), Created, Subscribed, S(10));

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(Ms(1300), "rxjs results") }));
        var rx = http.ShouldHaveCalled(Search + "?q=rx").Aborted().Times(1).Calls.Single();
        Assert.That(rx.Time.Ticks, Is.EqualTo(Ms(400)), "sent when 'rx' settled; abandoned at 1.3 s when 'rxjs' did");
    }

    [Test]
    public void A_query_that_never_answers_times_out_in_virtual_time()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Search + "*").Fail(FakeFault.Stall);
        using var session = http.CreateSession(scheduler);
        var typing = scheduler.CreateHotObservable(OnNext(Ms(100), "slow"));

        var res = scheduler.Start(() => new SearchViewModel(session, scheduler).Results(typing), Created, Subscribed, S(60));

        // Sent at 0.4 s; Total 5 s ≥ CeilThreshold, so the deadline 5.4 s is ceiled to 6 s.
        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(S(6), "(timed out)") }));
        http.ShouldHaveCalled(Search + "*").Aborted().Times(1);
    }

    [Test]
    public void The_downloader_backs_off_exponentially_until_the_server_recovers()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", "https://files.example.test/big").Respond(503).Respond(503).Respond(503).Respond(FakeResponse.Status(200).Bytes(new byte[] { 1, 2, 3 }));
        using var session = http.CreateSession(scheduler);

        var res = scheduler.Start(() => new RetryingDownloader(session, scheduler).Download("https://files.example.test/big").Select(b => b.Length), Created, Subscribed, S(60));

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(Subscribed + S(1 + 2 + 4), 3), OnCompleted<int>(Subscribed + S(7)) }));
        Assert.That(http.Calls.Select(c => c.Time.Ticks), Is.EqualTo(new[] { 0, S(1), S(3), S(7) }.Select(t => Subscribed + t)));
    }

    [Test]
    public void The_downloader_gives_up_after_its_attempts_with_the_servers_error()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("https://files.example.test/*").Respond(500);
        using var session = http.CreateSession(scheduler);

        var res = scheduler.Start(() => new RetryingDownloader(session, scheduler, attempts: 6).Download("https://files.example.test/big"), Created, Subscribed, S(120));

        Assert.That(res.Messages.Single().Time, Is.EqualTo(Subscribed + S(1 + 2 + 4 + 8 + 16)));
        Assert.That(res.Messages.Single().Value.Exception, Is.TypeOf<ClientResponseError>().With.Property("Status").EqualTo(500));
        http.ShouldHaveCalled("https://files.example.test/big").Times(6);
    }
}
