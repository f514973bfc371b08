using System.Net;
using System.Reactive.Linq;
using System.Text.Json;
using Microsoft.Reactive.Testing;
using NUnit.Framework;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// The engine's steps through the <see cref="IExchange"/> seam: a scripted exchange answers each hop, so redirects,
/// cookies, raise-for-status and the Total deadline run in pure virtual time, asserted to the tick, with no socket.
/// </summary>
[TestFixture]
public class EngineStepTests : ReactiveTest
{
    private sealed class ScriptedExchange(Func<ClientRequest, int, CancellationToken, ValueTask<ClientResponse>> answer) : IExchange
    {
        public List<ClientRequest> Sent { get; } = new();
        public List<CancellationToken> Tokens { get; } = new();

        public ValueTask<ClientResponse> SendAsync(ClientRequest request, CancellationToken ct)
        {
            Sent.Add(request);
            Tokens.Add(ct);
            return answer(request, Sent.Count - 1, ct);
        }
    }

    // A head-only response (no body): what the exchange hands the engine once the head has arrived.
    private static ValueTask<ClientResponse> Answer(ClientRequest request, int status, params (string Name, string Value)[] headers) =>
        new(new ClientResponse(status, "R", HttpVersion.Version11,
            new HeaderCollection(headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))),
            new RequestInfo(request.Method, request.Url, request.Headers), null, null, true, JsonSerializerOptions.Web));

    private static CallPlan Plan(IExchange exchange, AbstractCookieJar? jar = null) =>
        new(null, exchange, jar, Auth: true, new RedirectOptions(true, 10));

    private static ClientRequest Get(string url) => new("GET", Url.Parse(url));

    [Test]
    public void A_redirect_is_followed_within_the_same_tick_and_the_history_kept()
    {
        var scheduler = new TestScheduler();
        var exchange = new ScriptedExchange((r, i, _) => i == 0 ? Answer(r, 302, ("Location", "/b")) : Answer(r, 200));
        var observer = scheduler.Start(() => Observable.Create<ClientResponse>(o => RequestCall.Start(Plan(exchange), Get("http://example.com/a"), o)));
        Assert.That(observer.Messages.Select(m => (m.Time, m.Value.Kind)), Is.EqualTo(new[] { (Subscribed, System.Reactive.NotificationKind.OnNext), (Subscribed, System.Reactive.NotificationKind.OnCompleted) }));
        var response = observer.Messages[0].Value.Value;
        Assert.That(response.Url.ToString(), Is.EqualTo("http://example.com/b"));
        Assert.That(response.History.Select(h => h.Status), Is.EqualTo(new[] { 302 }));
        Assert.That(exchange.Sent.Select(s => s.Url.Path), Is.EqualTo(new[] { "/a", "/b" }));
    }

    [Test]
    public void Cookies_set_by_one_hop_go_out_with_the_next()
    {
        var scheduler = new TestScheduler();
        var jar = new CookieJar(scheduler: scheduler);
        var exchange = new ScriptedExchange((r, i, _) => i == 0 ? Answer(r, 302, ("Location", "/b"), ("Set-Cookie", "a=1; Path=/")) : Answer(r, 200));
        scheduler.Start(() => Observable.Create<ClientResponse>(o => RequestCall.Start(Plan(exchange, jar), Get("http://example.com/a"), o)));
        Assert.That(exchange.Sent[0].Headers.Get("Cookie"), Is.Null);
        Assert.That(exchange.Sent[1].Headers.Get("Cookie"), Is.EqualTo("a=1"));
    }

    [Test]
    public void Raise_for_status_fails_the_request_at_the_tick_the_response_arrives()
    {
        var scheduler = new TestScheduler();
        var exchange = new ScriptedExchange((r, _, _) => Answer(r, 404));
        var observer = scheduler.Start(() => Observable.Create<ClientResponse>(o => RequestCall.Start(Plan(exchange), Get("http://example.com/"), o, raise: r => !r.Ok)));
        Assert.That(observer.Messages, Has.Count.EqualTo(1));
        Assert.That(observer.Messages[0].Time, Is.EqualTo(Subscribed));
        Assert.That(observer.Messages[0].Value.Exception, Is.InstanceOf<ClientResponseError>().And.Property("Status").EqualTo(404));
    }

    [Test]
    public void The_Total_deadline_fails_a_hop_that_never_answers_at_the_exact_tick_and_cancels_it()
    {
        var scheduler = new TestScheduler();
        var exchange = new ScriptedExchange((_, _, ct) => new ValueTask<ClientResponse>(Task.Delay(Timeout.Infinite, ct).ContinueWith<ClientResponse>(_ => throw new OperationCanceledException(ct), TaskScheduler.Default)));
        var total = TimeSpan.FromSeconds(5);
        var observer = scheduler.Start(() => Observable.Create<ClientResponse>(o =>
            RequestCall.Start(Plan(exchange), Get("http://example.com/"), o, total: total, ceilThreshold: TimeSpan.FromHours(1), scheduler: scheduler)),
            created: 100, subscribed: 200, disposed: 200 + total.Ticks * 2);
        Assert.That(observer.Messages, Has.Count.EqualTo(1));
        Assert.That(observer.Messages[0].Time, Is.EqualTo(200 + total.Ticks));
        Assert.That(observer.Messages[0].Value.Exception, Is.InstanceOf<TotalTimeoutError>());
        Assert.That(exchange.Tokens[0].IsCancellationRequested, Is.True, "the hop in flight is abandoned");
    }

    [Test]
    public void Disposing_before_the_answer_cancels_the_hop_and_emits_nothing()
    {
        var scheduler = new TestScheduler();
        var exchange = new ScriptedExchange((_, _, ct) => new ValueTask<ClientResponse>(Task.Delay(Timeout.Infinite, ct).ContinueWith<ClientResponse>(_ => throw new OperationCanceledException(ct), TaskScheduler.Default)));
        var observer = scheduler.Start(() => Observable.Create<ClientResponse>(o => RequestCall.Start(Plan(exchange), Get("http://example.com/"), o)), 100, 200, 300);
        Assert.That(observer.Messages, Is.Empty);
        Assert.That(exchange.Tokens[0].IsCancellationRequested, Is.True);
    }
}
