using System.Reactive.Linq;
using NUnit.Framework;
using static RxHttp.Tests.Pipeline.Marble;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// The redirect step in virtual time, as Rx.NET tests its operators: each hop is a testable observable, and both the
/// messages and each hop's subscription are asserted to the tick. Every test runs through the engine's direct path
/// (<see cref="IExchange"/>) and through a handler hop (sessions with middlewares), where the engine itself must
/// unsubscribe a hop that has not completed.
/// </summary>
[TestFixture]
public class RedirectStepMarbleTests : ReactiveTest
{
    [Test]
    public void Each_redirect_status_is_followed_and_each_hop_ends_as_the_next_begins(
        [Values(301, 302, 303, 307, 308)] int status, [Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        // The first hop never completes: only the engine can end its subscription.
        var hop1 = scheduler.CreateColdObservable(OnNext(30, Head("http://h/a", status, ("Location", "/b"))));
        var hop2 = scheduler.CreateColdObservable(OnNext(20, Head("http://h/b", 200)), OnCompleted<ClientResponse>(20));
        var hops = new ScriptedHops(hop1, hop2);
        var request = new ClientRequest("POST", Url.Parse("http://h/a"), body: Payload.From("x"));

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler), request).Outcome());

        res.Messages.AssertEqual(OnNext(250, "200 /b"), OnCompleted<string>(250));
        hop1.Subscriptions.AssertEqual(Subscribe(200, 230));
        hop2.Subscriptions.AssertEqual(Subscribe(230, 250));
        // RFC 9110 §15.4 as aiohttp: 307/308 replay the method and body; 301/302 turn POST into GET, 303 anything.
        var keeps = status is 307 or 308;
        Assert.That(hops.Sent[1].Method, Is.EqualTo(keeps ? "POST" : "GET"));
        Assert.That(hops.Sent[1].Body, keeps ? Is.Not.Null : Is.Null);
    }

    [Test]
    public void A_chain_of_hops_delivers_the_last_response_with_the_history([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/1", 301, ("Location", "/2"))));
        var hop2 = scheduler.CreateColdObservable(OnNext(15, Head("http://h/2", 308, ("Location", "http://other/3"))));
        var hop3 = scheduler.CreateColdObservable(OnNext(25, Head("http://other/3", 200)));
        var hops = new ScriptedHops(hop1, hop2, hop3);
        ClientResponse? last = null;

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler), new ClientRequest("GET", Url.Parse("http://h/1")))
            .Do(r => last = r).Outcome());

        res.Messages.AssertEqual(OnNext(250, "200 /3"), OnCompleted<string>(250));
        hop1.Subscriptions.AssertEqual(Subscribe(200, 210));
        hop2.Subscriptions.AssertEqual(Subscribe(210, 225));
        hop3.Subscriptions.AssertEqual(Subscribe(225, 250));
        Assert.That(last!.History.Select(h => h.Status), Is.EqualTo(new[] { 301, 308 }));
        Assert.That(hops.Sent.Select(s => s.Url.ToString()), Is.EqualTo(new[] { "http://h/1", "http://h/2", "http://other/3" }));
    }

    [Test]
    public void More_redirects_than_allowed_fail_with_TooManyRedirects_at_the_tick_of_the_one_too_many([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/1", 302, ("Location", "/2"))));
        var hop2 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/2", 302, ("Location", "/3"))));
        var hop3 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/3", 302, ("Location", "/4"))));
        var hops = new ScriptedHops(hop1, hop2, hop3);

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler, maxRedirects: 2), new ClientRequest("GET", Url.Parse("http://h/1"))).Outcome());

        res.Messages.AssertEqual(OnError<string>(230, e => e is TooManyRedirects { Status: 302 } t && t.History.Count == 3));
        hop1.Subscriptions.AssertEqual(Subscribe(200, 210));
        hop2.Subscriptions.AssertEqual(Subscribe(210, 220));
        hop3.Subscriptions.AssertEqual(Subscribe(220, 230));
    }

    [Test]
    public void With_redirects_off_the_redirect_itself_is_the_response([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(OnNext(30, Head("http://h/a", 302, ("Location", "/b"))), OnCompleted<ClientResponse>(30));
        var hops = new ScriptedHops(hop1);

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler, allowRedirects: false), new ClientRequest("GET", Url.Parse("http://h/a"))).Outcome());

        res.Messages.AssertEqual(OnNext(230, "302 /a"), OnCompleted<string>(230));
        hop1.Subscriptions.AssertEqual(Subscribe(200, 230));
    }

    [Test]
    public void Disposing_between_hops_unsubscribes_the_hop_in_flight_and_sends_nothing_more([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/a", 302, ("Location", "/b"))), OnCompleted<ClientResponse>(10));
        var hop2 = scheduler.CreateColdObservable(OnNext(100, Head("http://h/b", 200)));
        var hops = new ScriptedHops(hop1, hop2);

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler), new ClientRequest("GET", Url.Parse("http://h/a"))).Outcome(), 100, 200, 260);

        res.Messages.AssertEqual();
        hop1.Subscriptions.AssertEqual(Subscribe(200, 210));
        hop2.Subscriptions.AssertEqual(Subscribe(210, 260));
    }

    [Test]
    public void A_hop_that_fails_fails_the_request_at_its_tick([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/a", 307, ("Location", "/b"))));
        var hop2 = scheduler.CreateColdObservable(OnError<ClientResponse>(40, new ServerDisconnectedError("gone")));
        var hops = new ScriptedHops(hop1, hop2);

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler), new ClientRequest("GET", Url.Parse("http://h/a"))).Outcome());

        res.Messages.AssertEqual(OnError<string>(250, e => e is ServerDisconnectedError));
        hop1.Subscriptions.AssertEqual(Subscribe(200, 210));
        hop2.Subscriptions.AssertEqual(Subscribe(210, 250));
    }
}
