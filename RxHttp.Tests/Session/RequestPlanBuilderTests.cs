using System.Net;
using System.Reactive.Concurrency;
using System.Reactive.Subjects;
using NUnit.Framework;
using RxHttp.Tests.Pipeline;
using static RxHttp.Tests.Pipeline.Marble;

namespace RxHttp.Tests.Session;

/// <summary>
/// The session's one request builder: what a verb's options cannot say in the request's headers and body goes into
/// the request's typed plan, which copies and redirect hops carry, and none of it into the caller's property bag.
/// </summary>
[TestFixture]
public class RequestPlanBuilderTests : ReactiveTest
{
    private static RequestPlanBuilder Builder(ClientSessionOptions? options = null, string? baseUrl = null) =>
        new(options ?? new ClientSessionOptions(), baseUrl is null ? null : Url.Parse(baseUrl), new HeaderCollection(), _ => "{}", Scheduler.Default);

    [Test]
    public void A_request_with_nothing_the_headers_cannot_say_shares_the_empty_plan()
    {
        var request = Builder().Build("POST", Url.Parse("http://h/a"), new RequestOptions
        {
            Headers = [new("X-A", "1")], Params = new QueryParams { { "q", "1" } }, Data = "x", Chunked = true, Compress = "gzip",
        });

        Assert.Multiple(() =>
        {
            Assert.That(request.Plan, Is.SameAs(RequestPlan.None), "most requests cost no plan of their own");
            Assert.That(request.Properties, Is.Empty);
            Assert.That(request.Headers.Get("Content-Encoding"), Is.EqualTo("gzip"));
        });
    }

    [Test]
    public void Each_option_lands_in_its_typed_slot_and_only_the_callers_values_in_Properties()
    {
        var progress = new Subject<TransferProgress>();
        var auth = new BasicAuth("ada", "pw");
        var request = Builder().Build("POST", Url.Parse("http://h/a"), new RequestOptions
        {
            Data = "x",
            Proxy = Url.Parse("http://proxy:3128/"), ProxyAuth = new NetworkCredential("p", "w"), ProxyHeaders = [new("X-P", "1")],
            Expect100 = true,
            UploadProgress = progress,
            SkipAutoHeaders = ["content-type"],
            Auth = auth,
            Cookies = [new("c", "1")],
            Properties = new Dictionary<string, object?> { ["mine"] = 1 },
        });

        var plan = request.Plan;
        Assert.Multiple(() =>
        {
            Assert.That(plan.Proxy?.Url.ToString(), Is.EqualTo("http://proxy:3128/"));
            Assert.That(plan.Proxy?.Auth?.UserName, Is.EqualTo("p"));
            Assert.That(plan.Proxy?.Headers.Get("X-P"), Is.EqualTo("1"));
            Assert.That(plan.Expect100, Is.True);
            Assert.That(plan.UploadProgress, Is.SameAs(progress));
            Assert.That(plan.SkipContentType, Is.True, "SkipAutoHeaders names Content-Type in any case");
            Assert.That(plan.Auth, Is.SameAs(auth));
            Assert.That(plan.Cookies, Is.EqualTo(new[] { new KeyValuePair<string, string>("c", "1") }));
            Assert.That(plan.Tracer, Is.Null, "the session adds its tracer only while something listens");
            Assert.That(request.Properties.Keys, Is.EqualTo(new[] { "mine" }), "no library key goes through the caller's bag");
        });
    }

    [Test]
    public void The_sessions_credentials_go_into_the_plan_for_its_base_origin_only()
    {
        var auth = new BasicAuth("s", "pw");
        var builder = Builder(new ClientSessionOptions { Auth = auth }, "http://h/");

        Assert.That(builder.Build("GET", Url.Parse("x"), new RequestOptions()).Plan.Auth, Is.SameAs(auth));
        Assert.That(builder.Build("GET", Url.Parse("http://other/x"), new RequestOptions()).Plan, Is.SameAs(RequestPlan.None));
    }

    [Test]
    public void Copies_of_a_request_carry_its_plan()
    {
        var request = Builder().Build("GET", Url.Parse("http://h/a"), new RequestOptions { Expect100 = true });

        Assert.Multiple(() =>
        {
            Assert.That(request.With(headers: new HeaderCollection()).Plan, Is.SameAs(request.Plan), "With (middlewares, redirect hops)");
            Assert.That(request.With(url: Url.Parse("http://other/b")).Plan, Is.SameAs(request.Plan), "With leaves origin rules to the redirect step");
            Assert.That(request.WithHopHeaders(new HeaderCollection()).Plan, Is.SameAs(request.Plan), "the traced hop's copy");
        });
    }

    [Test]
    public void A_cross_origin_redirect_leaves_the_credentials_and_cookies_behind_and_keeps_the_rest_of_the_plan([Values] bool throughHandler)
    {
        var scheduler = new TestScheduler();
        var hop1 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/a", 307, ("Location", "/b"))));
        var hop2 = scheduler.CreateColdObservable(OnNext(10, Head("http://h/b", 307, ("Location", "http://other/c"))));
        var hop3 = scheduler.CreateColdObservable(OnNext(10, Head("http://other/c", 200)), OnCompleted<ClientResponse>(10));
        var hops = new ScriptedHops(hop1, hop2, hop3);
        var request = Builder().Build("GET", Url.Parse("http://h/a"), new RequestOptions
        {
            Auth = new BasicAuth("ada", "pw"), Cookies = [new("c", "1")], Proxy = Url.Parse("http://proxy:3128/"), Expect100 = true,
        });

        scheduler.Start(() => Call(hops.Plan(throughHandler, new CookieJar(scheduler: scheduler)), request).Outcome());

        var plans = hops.Sent.Select(s => s.Plan).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(plans.Select(p => p.Auth is not null), Is.EqualTo(new[] { true, true, false }));
            Assert.That(plans.Select(p => p.Cookies is not null), Is.EqualTo(new[] { true, true, false }));
            Assert.That(plans.Select(p => p.Proxy), Is.All.SameAs(request.Plan.Proxy), "the proxy is the request's, whichever origin");
            Assert.That(plans.Select(p => p.Expect100), Is.All.True);
            Assert.That(hops.Sent.Select(s => s.Headers.Get("Cookie")), Is.EqualTo(new[] { "c=1", "c=1", null }));
        });
    }
}
