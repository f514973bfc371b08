using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;
using K = RxHttp.TraceEventKind;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// A trace observer that throws, at each of the signals a request raises, against Kestrel: the request still gets its
/// response (or its own error) and gives its connection back. Events are raised on socket threads, where such an
/// exception used to end the test host (RequestEnd, RequestException) or fail the request with the observer's error.
/// </summary>
[TestFixture]
public class ThrowingTraceObserverTests : KestrelFixture
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static IDisposable ThrowOn(ClientSession session, K kind) =>
        session.Trace.Subscribe(e =>
        {
            if (e.Kind == kind) throw new InvalidOperationException($"observer of {kind}");
        });

    [TestCase(K.RequestStart)]
    [TestCase(K.ConnectionCreateStart)]
    [TestCase(K.RequestHeadersSent)]
    [TestCase(K.RequestRedirect)]
    [TestCase(K.ConnectionReuseconn)]
    [TestCase(K.RequestEnd)]
    [TestCase(K.ResponseChunkReceived)]
    public async Task A_redirected_request_still_answers_and_releases_its_connection(K kind)
    {
        using var session = new ClientSession();
        using var _ = ThrowOn(session, kind);
        var text = await session.Get(Server.Url("redirect/1")).SelectMany(r => r.Text()).ToTask().WaitAsync(Bound);
        Assert.That(text, Is.EqualTo("done"));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 1 });
    }

    [Test]
    public async Task A_body_is_still_sent_whole_when_the_chunk_observer_throws()
    {
        using var session = new ClientSession();
        using var _ = ThrowOn(session, K.RequestChunkSent);
        var text = await session.Post(Server.Url("echo"), new RequestOptions { Data = "abc" }).SelectMany(r => r.Text()).ToTask().WaitAsync(Bound);
        Assert.That(text, Does.Contain("\"body\":\"abc\""));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 1 });
    }

    [Test]
    public void A_failed_request_reports_its_own_error_when_the_exception_observer_throws()
    {
        using var session = new ClientSession();
        using var _ = ThrowOn(session, K.RequestException);
        Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get("http://127.0.0.1:1/").ToTask().WaitAsync(Bound));
    }

    [Test]
    public async Task A_disposed_request_does_not_throw_the_observers_exception_from_Dispose()
    {
        using var session = new ClientSession();
        using var _ = ThrowOn(session, K.RequestException);
        var subscription = session.Get(Server.Url("never")).Subscribe(_ => { }, _ => { });
        await Wait.Until(() => session.Connector.CurrentState.InUse == 1);
        Assert.That(subscription.Dispose, Throws.Nothing);
        await Wait.Until(() => session.Connector.CurrentState.InUse == 0);
    }

    [Test]
    public async Task Observers_that_do_not_throw_keep_receiving_later_events()
    {
        using var session = new ClientSession();
        using var _ = ThrowOn(session, K.RequestStart);
        var kinds = new List<K>();
        using var __ = session.Trace.Subscribe(e => { lock (kinds) kinds.Add(e.Kind); });
        (await session.Get(Server.Url("hello")).ToTask().WaitAsync(Bound)).Release();
        lock (kinds) Assert.That(kinds, Does.Contain(K.RequestEnd));
    }
}
