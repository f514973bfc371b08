using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Contract;

/// <summary>
/// session.Trace is one hot stream fed by every request of the session, each from its own threads: its observer must
/// still see one call at a time, and one that blocks must hold up neither the other requests nor itself.
/// </summary>
public class TraceContractTests : KestrelFixture
{
    [Test]
    public async Task A_second_request_while_an_event_is_delivered_is_traced_after_it_not_during_it()
    {
        await using var session = new ClientSession(Server.BaseUrl);
        var first = 0;
        var observer = new ContractObserver<TraceEvent>(e =>
        {
            // Inside the first request's first event, another request runs to its end on other threads.
            if (Interlocked.Exchange(ref first, 1) == 0)
                Task.Run(async () => await session.Get("hello").SelectMany(r => r.Text())).Wait();
        });
        using var sub = session.Trace.Subscribe(observer);
        Assert.That(await session.Get("hello").SelectMany(r => r.Text()).ToTask().Within(), Is.EqualTo(KestrelServer.Hello));
        await Wait.Until(() => observer.Count >= 4, what: "both requests' events");
        Assert.That(observer.Violations, Is.Empty);
    }

    [Test]
    public async Task Trace_of_64_concurrent_requests_keeps_the_grammar()
    {
        await using var session = new ClientSession(Server.BaseUrl);
        var observer = new ContractObserver<TraceEvent>();
        using var sub = session.Trace.Subscribe(observer);
        var texts = await Observable.Range(0, 64)
            .Select(_ => session.Get("hello").SelectMany(r => r.Text()))
            .Merge()
            .ToList()
            .ToTask()
            .Within();
        Assert.That(texts, Has.Count.EqualTo(64));
        session.Close();
        Assert.That(observer.Violations, Is.Empty);
        Assert.That(observer.Completed, Is.True);
    }
}
