using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using static RxHttp.Tests.Pipeline.Marble;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// The per-hop steps in virtual time: raise-for-status, cookies, Basic credentials and the Digest challenge, each with
/// the engine's messages and every hop's subscription asserted to the tick.
/// </summary>
[TestFixture]
public class HopStepMarbleTests : ReactiveTest
{
    private static readonly Func<ClientResponse, bool> NotOk = r => !r.Ok;

    [Test]
    public void Raise_for_status_fails_at_the_tick_of_the_response([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop = scheduler.CreateColdObservable(OnNext(30, Head("http://h/", 404)), OnCompleted<ClientResponse>(30));
        var hops = new ScriptedHops(hop);

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler), new ClientRequest("GET", Url.Parse("http://h/")), raise: NotOk).Outcome());

        res.Messages.AssertEqual(OnError<string>(230, e => e is ClientResponseError { Status: 404 }));
        hop.Subscriptions.AssertEqual(Subscribe(200, 230));
    }

    [Test]
    public void Raise_for_status_passes_what_the_predicate_accepts_and_judges_only_the_final_hop([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/a", 302, ("Location", "/b"))));
        var hop2 = scheduler.CreateColdObservable(OnNext(20, Head("http://h/b", 503)), OnCompleted<ClientResponse>(20));
        var hops = new ScriptedHops(hop1, hop2);

        // 3xx would be raised by this predicate: a redirect that is followed is not a final response.
        var res = scheduler.Start(() => Call(hops.Plan(throughHandler), new ClientRequest("GET", Url.Parse("http://h/a")),
            raise: r => r.Status is >= 300 and < 500).Outcome());

        res.Messages.AssertEqual(OnNext(230, "503 /b"), OnCompleted<string>(230));
        hop1.Subscriptions.AssertEqual(Subscribe(200, 210));
        hop2.Subscriptions.AssertEqual(Subscribe(210, 230));
    }

    [Test]
    public void A_cookie_set_by_hop_1_goes_out_with_hop_2_and_is_kept_in_the_jar([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var jar = new CookieJar(scheduler: scheduler);
        var hop1 = scheduler.CreateColdObservable(OnNext(30, Head("http://h/login", 303, ("Location", "/home"), ("Set-Cookie", "sid=42; Path=/"))));
        var hop2 = scheduler.CreateColdObservable(OnNext(20, Head("http://h/home", 200)), OnCompleted<ClientResponse>(20));
        var hops = new ScriptedHops(hop1, hop2);

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler, jar), new ClientRequest("POST", Url.Parse("http://h/login"))).Outcome());

        res.Messages.AssertEqual(OnNext(250, "200 /home"), OnCompleted<string>(250));
        hop1.Subscriptions.AssertEqual(Subscribe(200, 230));
        hop2.Subscriptions.AssertEqual(Subscribe(230, 250));
        Assert.That(hops.Sent[0].Headers.Get("Cookie"), Is.Null);
        Assert.That(hops.Sent[1].Headers.Get("Cookie"), Is.EqualTo("sid=42"));
        Assert.That(jar.FilterCookies(new Uri("http://h/")).Select(c => c.Key + "=" + c.Value), Is.EqualTo(new[] { "sid=42" }));
    }

    [Test]
    public void A_cookie_is_not_sent_to_another_host([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var jar = new CookieJar(scheduler: scheduler);
        var hop1 = scheduler.CreateColdObservable(OnNext(30, Head("http://h/a", 302, ("Location", "http://other/b"), ("Set-Cookie", "sid=42"))));
        var hop2 = scheduler.CreateColdObservable(OnNext(20, Head("http://other/b", 200)), OnCompleted<ClientResponse>(20));
        var hops = new ScriptedHops(hop1, hop2);

        scheduler.Start(() => Call(hops.Plan(throughHandler, jar), new ClientRequest("GET", Url.Parse("http://h/a"))).Outcome());

        Assert.That(hops.Sent[1].Headers.Get("Cookie"), Is.Null);
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    [Test]
    public void Basic_credentials_from_the_URL_go_out_without_the_URL_credentials_and_stay_with_their_origin([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/a", 302, ("Location", "/b"))));
        var hop2 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/b", 302, ("Location", "http://other/c"))));
        var hop3 = scheduler.CreateColdObservable(OnNext(10, Head("http://other/c", 200)), OnCompleted<ClientResponse>(10));
        var hops = new ScriptedHops(hop1, hop2, hop3);
        var request = new ClientRequest("GET", Url.Parse("http://h/a"));
        request.Plan = new RequestPlan { Auth = new BasicAuth("ada", "pw") };

        var res = scheduler.Start(() => Call(hops.Plan(throughHandler), request).Outcome());

        res.Messages.AssertEqual(OnNext(230, "200 /c"), OnCompleted<string>(230));
        Assert.That(hops.Sent.Select(s => s.Headers.Get("Authorization")), Is.EqualTo(new[] { Basic("ada", "pw"), Basic("ada", "pw"), null }),
            "the credentials are dropped on the cross-origin hop");
    }

    [Test]
    public void Basic_credentials_in_the_URL_become_the_header([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop = scheduler.CreateColdObservable(OnNext(10, Head("http://h/a", 200)), OnCompleted<ClientResponse>(10));
        var hops = new ScriptedHops(hop);

        scheduler.Start(() => Call(hops.Plan(throughHandler), new ClientRequest("GET", Url.Parse("http://u:p@h/a"))).Outcome());

        Assert.That(hops.Sent[0].Headers.Get("Authorization"), Is.EqualTo(Basic("u", "p")));
        Assert.That(hops.Sent[0].Url.ToString(), Is.EqualTo("http://h/a"));
    }

    [Test]
    public void A_Digest_challenge_is_answered_by_a_second_hop_at_the_tick_of_the_401()
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(
            OnNext(30, Head("http://h/secret", 401, ("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n1\", qop=\"auth\", algorithm=MD5"))),
            OnCompleted<ClientResponse>(30));
        var hop2 = scheduler.CreateColdObservable(OnNext(20, Head("http://h/secret", 200)), OnCompleted<ClientResponse>(20));
        var hops = new ScriptedHops(hop1, hop2);
        var digest = new DigestAuth("ada", "pw", cnonce: () => "c0ffee");
        var plan = new CallPlan(hops.Handler.WithMiddlewares([digest.Middleware]), null, null, Auth: true, new RedirectOptions());

        var res = scheduler.Start(() => Call(plan, new ClientRequest("GET", Url.Parse("http://h/secret"))).Outcome());

        res.Messages.AssertEqual(OnNext(250, "200 /secret"), OnCompleted<string>(250));
        hop1.Subscriptions.AssertEqual(Subscribe(200, 230));
        hop2.Subscriptions.AssertEqual(Subscribe(230, 250));
        Assert.That(hops.Sent[0].Headers.Get("Authorization"), Is.Null);
        Assert.That(hops.Sent[1].Headers.Get("Authorization"), Does.StartWith("Digest username=\"ada\"").And.Contains("nonce=\"n1\"").And.Contains("cnonce=\"c0ffee\""));
    }

    [Test]
    public void A_second_401_to_the_same_nonce_is_handed_to_the_caller_and_raised_when_asked()
    {
        var scheduler = new TestScheduler();
        var challenge = ("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n1\", qop=\"auth\"");
        var hop1 = scheduler.CreateColdObservable(OnNext(30, Head("http://h/secret", 401, challenge)), OnCompleted<ClientResponse>(30));
        var hop2 = scheduler.CreateColdObservable(OnNext(20, Head("http://h/secret", 401, challenge)), OnCompleted<ClientResponse>(20));
        var hops = new ScriptedHops(hop1, hop2);
        var digest = new DigestAuth("ada", "wrong", cnonce: () => "c0ffee");
        var plan = new CallPlan(hops.Handler.WithMiddlewares([digest.Middleware]), null, null, Auth: true, new RedirectOptions());

        var res = scheduler.Start(() => Call(plan, new ClientRequest("GET", Url.Parse("http://h/secret")), raise: NotOk).Outcome());

        res.Messages.AssertEqual(OnError<string>(250, e => e is ClientResponseError { Status: 401 }));
        Assert.That(hops.Sent, Has.Count.EqualTo(2), "bad credentials are not retried forever");
    }
}
