using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Pipeline;

[TestFixture]
public class MiddlewaresTests : KestrelFixture
{
    [Test]
    public async Task First_is_outermost_runs_per_hop_and_may_change_the_request()
    {
        var log = new List<string>();
        Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> Named(string name) => (req, next) =>
        {
            lock (log) log.Add($"{name}>{req.Url.Path}");
            var headers = req.Headers.Clone().Add("X-Mw", name);
            return next(req.With(headers: headers)).Do(r => { lock (log) log.Add($"{name}<{r.Status}"); });
        };
        using var session = new ClientSession(new ClientSessionOptions { Middlewares = new[] { Named("a"), Named("b") } });
        var r = await session.Get(Server.Url("redirect/1"));
        Assert.That(r.History, Has.Count.EqualTo(1));
        Assert.That(log, Is.EqualTo(new[] { "a>/redirect/1", "b>/redirect/1", "b<302", "a<302", "a>/redirect/0", "b>/redirect/0", "b<200", "a<200" }));
        Assert.That(r.History[0].RequestInfo.Headers.GetAll("X-Mw"), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public async Task A_middleware_may_call_next_twice_and_request_middlewares_replace_the_session_ones()
    {
        var calls = 0;
        Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> twice = (req, next) =>
            next(req).SelectMany(first =>
            {
                Interlocked.Increment(ref calls);
                first.Release();
                return next(req).Do(_ => Interlocked.Increment(ref calls));
            });
        using var session = new ClientSession(new ClientSessionOptions { Middlewares = new[] { twice } });
        var r = await session.Get(Server.Url("hello"));
        Assert.That(await r.Text(), Is.EqualTo(KestrelServer.Hello));
        Assert.That(calls, Is.EqualTo(2));
        await session.Get(Server.Url("hello"), new RequestOptions { Middlewares = Array.Empty<Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>>>() });
        Assert.That(calls, Is.EqualTo(2), "the empty per-request list disabled the session's middleware");
    }

    [Test]
    public async Task Raise_for_status_takes_a_predicate_on_session_and_request()
    {
        using var session = new ClientSession(new ClientSessionOptions { RaiseForStatusWhen = r => r.Status == 404 });
        var e = Assert.ThrowsAsync<ClientResponseError>(async () => await session.Get(Server.Url("status/404")));
        Assert.That(e!.Status, Is.EqualTo(404));
        Assert.That(e.RequestInfo!.Url.Path, Is.EqualTo("/status/404"));
        Assert.That((await session.Get(Server.Url("status/500"))).Status, Is.EqualTo(500), "the predicate does not pick 500");
        Assert.That((await session.Get(Server.Url("status/404"), new RequestOptions { RaiseForStatus = false })).Status, Is.EqualTo(404));
        Assert.ThrowsAsync<ClientResponseError>(async () => await session.Get(Server.Url("status/500"), new RequestOptions { RaiseForStatusWhen = r => r.Status >= 500 }));
    }
}
