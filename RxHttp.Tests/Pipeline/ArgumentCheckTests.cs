using System.Reactive.Concurrency;
using System.Reactive.Linq;
using NUnit.Framework;
using static RxHttp.Tests.Pipeline.Marble;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// Argument checks of every public operator and entry of the pipeline, as Rx.NET's <c>*_ArgumentChecking</c> tests:
/// null, negative and zero, each failing where the operator is built (not on the first request) with the parameter named.
/// </summary>
[TestFixture]
public class ArgumentCheckTests : ReactiveTest
{
    private static readonly RequestHandler Hop = _ => Observable.Never<ClientResponse>();
    private static readonly IObservable<ClientResponse> Source = Observable.Never<ClientResponse>();
    private static readonly IScheduler Clock = new TestScheduler();

    private static void Null(string param, TestDelegate build) =>
        Assert.That(Assert.Throws<ArgumentNullException>(build)!.ParamName, Is.EqualTo(param));

    private static void OutOfRange(TestDelegate build) => Assert.Throws<ArgumentOutOfRangeException>(build);

    [Test]
    public void FollowRedirects()
    {
        Null("hop", () => RedirectsOperator.FollowRedirects(null!, new RedirectOptions()));
        Null("options", () => Hop.FollowRedirects(null!));
        OutOfRange(() => Hop.FollowRedirects(new RedirectOptions(MaxRedirects: -1)));
        Assert.That(Hop.FollowRedirects(new RedirectOptions(MaxRedirects: 0)), Is.Not.Null, "zero: no redirect may be followed");
    }

    [Test]
    public void Zero_MaxRedirects_fails_the_first_redirect_at_its_tick()
    {
        var scheduler = new TestScheduler();
        var hop = scheduler.CreateColdObservable(OnNext(10, Head("http://h/a", 302, ("Location", "/b"))));
        var hops = new ScriptedHops(hop);

        var res = scheduler.Start(() => Call(hops.Plan(false, maxRedirects: 0), new ClientRequest("GET", Url.Parse("http://h/a"))).Outcome());

        res.Messages.AssertEqual(OnError<string>(210, e => e is TooManyRedirects));
        hop.Subscriptions.AssertEqual(Subscribe(200, 210));
    }

    [Test]
    public void TotalTimeout()
    {
        Null("source", () => TotalTimeoutOperator.TotalTimeout(null!, TimeSpan.FromSeconds(1), TimeSpan.Zero, Clock));
        Null("scheduler", () => Source.TotalTimeout(TimeSpan.FromSeconds(1), TimeSpan.Zero, null!));
        // aiohttp's None and 0 turn a timeout off; a negative one does too rather than firing at once.
        Assert.That(Source.TotalTimeout(TimeSpan.Zero, TimeSpan.Zero, Clock), Is.SameAs(Source));
        Assert.That(Source.TotalTimeout(TimeSpan.FromSeconds(-1), TimeSpan.Zero, Clock), Is.SameAs(Source));
        Assert.That(Source.TotalTimeout(null, TimeSpan.Zero, Clock), Is.SameAs(Source));
    }

    [Test]
    public void Zero_or_negative_Total_in_the_engine_sets_no_deadline([Values(0, -1)] int seconds)
    {
        var scheduler = new TestScheduler();
        var hop = scheduler.CreateColdObservable(OnNext(S(100), Head("http://h/", 200)));
        var hops = new ScriptedHops(hop);

        var res = scheduler.Start(() => Call(hops.Plan(false), new ClientRequest("GET", Url.Parse("http://h/")),
            total: TimeSpan.FromSeconds(seconds), scheduler: scheduler).Outcome(), 100, 200, S(200));

        res.Messages.AssertEqual(OnNext(200 + S(100), "200 /"), OnCompleted<string>(200 + S(100)));
    }

    [Test]
    public void RaiseForStatus() => Null("source", () => RaiseForStatusOperator.RaiseForStatus(null!));

    [Test]
    public void WithCookies()
    {
        Null("hop", () => CookiesOperator.WithCookies(null!, new CookieJar()));
        Null("jar", () => Hop.WithCookies(null!));
    }

    [Test]
    public void WithBasicAuth_and_BasicAuth() => Null("hop", () => BasicAuthOperator.WithBasicAuth(null!));

    [Test]
    public void WithMiddlewares()
    {
        Null("hop", () => MiddlewaresOperator.WithMiddlewares(null!, []));
        Assert.Throws<ArgumentException>(() => Hop.WithMiddlewares([null!]));
    }

    [Test]
    public void TraceHops() => Null("hop", () => TracingOperator.TraceHops(null!));

    [Test]
    public void DigestAuth()
    {
        Null("login", () => new DigestAuth(null!, "p"));
        Null("password", () => new DigestAuth("u", null!));
        var digest = new DigestAuth("u", "p");
        Null("request", () => digest.Handle(null!, _ => Source));
        Null("next", () => digest.Handle(new ClientRequest("GET", Url.Parse("http://h/")), null!));
    }

    [Test]
    public void WithRetry_and_its_middleware()
    {
        var options = new RetryOptions();
        Null("hop", () => RetryOperator.WithRetry(null!, options, Clock));
        Null("hop", () => RetryOperator.WithRetry(null!, options));
        Null("options", () => Hop.WithRetry(null!, Clock));
        Null("options", () => Hop.WithRetry(null!));
        Null("scheduler", () => Hop.WithRetry(options, null!));
        Null("options", () => RetryOperator.Middleware(null!, Clock));
        Null("options", () => RetryOperator.Middleware(null!));
        Null("scheduler", () => RetryOperator.Middleware(options, null!));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void Retry_needs_at_least_one_attempt(int attempts)
    {
        var options = new RetryOptions { MaxAttempts = attempts };
        OutOfRange(() => Hop.WithRetry(options, Clock));
        OutOfRange(() => Hop.WithRetry(options));
        OutOfRange(() => RetryOperator.Middleware(options));
        OutOfRange(() => RetryOperator.Middleware(options, Clock));
    }

    [Test]
    public void Retry_delays_and_jitter_must_be_in_range()
    {
        OutOfRange(() => Hop.WithRetry(new RetryOptions { BaseDelay = TimeSpan.FromTicks(-1) }));
        OutOfRange(() => Hop.WithRetry(new RetryOptions { MaxDelay = TimeSpan.FromTicks(-1) }));
        OutOfRange(() => Hop.WithRetry(new RetryOptions { Jitter = -0.1 }));
        OutOfRange(() => Hop.WithRetry(new RetryOptions { Jitter = 1.1 }));
        OutOfRange(() => Hop.WithRetry(new RetryOptions { Jitter = double.NaN }));
        Assert.That(Hop.WithRetry(new RetryOptions { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero, Jitter = 0 }), Is.Not.Null, "zero delays retry at once");
    }

    [Test]
    public void Connect()
    {
        var connector = new StreamConnector((_, _) => throw new InvalidOperationException());
        Null("key", () => connector.Connect(null!));
        Null("key", () => connector.Connect(null!, new ClientTimeout()));
        Null("observer", () => connector.Connect(new ConnectionKey("h", 80, false, null)).Subscribe(null!));
        OutOfRange(() => new StreamConnector((_, _) => throw new InvalidOperationException(), new ConnectorOptions { Limit = -1 }));
        OutOfRange(() => new StreamConnector((_, _) => throw new InvalidOperationException(), new ConnectorOptions { LimitPerHost = -1 }));
    }

    [Test]
    public void Session_entries()
    {
        using var session = new ClientSession();
        Assert.Throws<ArgumentNullException>(() => session.Request(null!, "http://h/"));
        Assert.Throws<ArgumentException>(() => session.Request("", "http://h/"));
        Null("url", () => session.Get((Url)null!));
        Null("url", () => session.WsConnect((Url)null!));
        Null("uri", () => session.Get((Uri)null!));
        Null("uri", () => session.WsConnect((Uri)null!));
        Null("observer", () => session.Get("http://h/").Subscribe(null!));
        OutOfRange(() => new ClientSession(new ClientSessionOptions { MaxRedirects = -1 }));
        // A bad per-request option fails that subscription, as a bad URL does.
        var error = session.Get("http://h/", new RequestOptions { MaxRedirects = -1 }).Materialize().ToEnumerable().First().Exception;
        Assert.That(error, Is.TypeOf<ArgumentOutOfRangeException>());
    }
}
