using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;
using K = RxHttp.TraceEventKind;

namespace RxHttp.Tests.Pipeline;

[TestFixture]
public class TracingTests : KestrelFixture
{
    [Test]
    public async Task One_redirected_request_reports_the_aiohttp_sequence()
    {
        using var session = new ClientSession();
        var events = new List<TraceEvent>();
        using var _ = session.Trace.Subscribe(e => { lock (events) events.Add(e); });
        var r = await session.Get(Server.Url("redirect/1"));
        Assert.That(await r.Text(), Is.EqualTo("done"));
        List<K> kinds;
        lock (events) kinds = events.Select(e => e.Kind).ToList();
        // aiohttp 3.8's TraceConfig for the same exchange, less its empty on_request_chunk_sent per bodiless hop:
        // on_request_start once, before the redirect loop; each later hop is its on_request_redirect.
        Assert.That(kinds, Is.EqualTo(new[]
        {
            K.RequestStart, K.ConnectionCreateStart, K.ConnectionCreateEnd, K.RequestHeadersSent, K.RequestRedirect,
            K.ConnectionReuseconn, K.RequestHeadersSent, K.RequestEnd, K.ResponseChunkReceived,
        }), string.Join(", ", kinds));
        Assert.That(events.Last().ChunkLength, Is.EqualTo(4));
        Assert.That(events.Select(e => e.RequestId).Distinct().Count(), Is.EqualTo(1));
        Assert.That(events.Single(e => e.Kind == K.RequestStart).Url.Path, Is.EqualTo("/redirect/1"));
        Assert.That(events.First(e => e.Kind == K.RequestRedirect).Response!.Status, Is.EqualTo(302));
        Assert.That(events.Last(e => e.Kind == K.RequestHeadersSent).Url.Path, Is.EqualTo("/redirect/0"));
        Assert.That(events.Single(e => e.Kind == K.RequestEnd).Url.Path, Is.EqualTo("/redirect/0"));
    }

    [Test]
    public async Task Behind_middlewares_a_redirected_request_still_starts_once()
    {
        using var session = new ClientSession(new ClientSessionOptions { Middlewares = [(request, next) => next(request)] });
        var events = new List<TraceEvent>();
        using var _ = session.Trace.Subscribe(e => { lock (events) events.Add(e); });
        Assert.That(await session.Get(Server.Url("redirect/2")).SelectMany(r => r.Text()), Is.EqualTo("done"));
        lock (events)
        {
            Assert.That(events.Count(e => e.Kind == K.RequestStart), Is.EqualTo(1));
            Assert.That(events.Count(e => e.Kind == K.RequestRedirect), Is.EqualTo(2));
            Assert.That(events.Count(e => e.Kind == K.RequestHeadersSent), Is.EqualTo(3));
            Assert.That(events.Count(e => e.Kind == K.RequestEnd), Is.EqualTo(1));
        }
    }

    // A middleware may end a request without a response (none made, or the one it got filtered out). The trace
    // still ends it, as a disposed request's does, so whoever pairs starts with ends (SessionLogging) forgets it.
    [Test]
    public async Task A_request_a_middleware_ends_without_a_response_ends_in_the_trace()
    {
        Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> drop =
            (request, next) => next(request).Do(r => r.Release()).Where(_ => false);
        using var session = new ClientSession(new ClientSessionOptions { Middlewares = [drop] });
        var events = new List<TraceEvent>();
        using var _ = session.Trace.Subscribe(e => { lock (events) events.Add(e); });
        Assert.That(await session.Get(Server.Url("hello")).ToList(), Is.Empty);
        lock (events)
        {
            Assert.That(events.Count(e => e.Kind == K.RequestStart), Is.EqualTo(1));
            Assert.That(events.Last(e => e.Kind is K.RequestEnd or K.RequestException).Kind, Is.EqualTo(K.RequestException));
            Assert.That(events.Single(e => e.Kind == K.RequestException).Exception, Is.InstanceOf<OperationCanceledException>());
        }
    }

    [Test]
    public async Task A_body_reports_its_chunks()
    {
        using var session = new ClientSession();
        var events = new List<TraceEvent>();
        using var _ = session.Trace.Subscribe(e => { lock (events) events.Add(e); });
        (await session.Post(Server.Url("echo"), new RequestOptions { Data = "abc" })).Release();
        lock (events)
        {
            Assert.That(events.Select(e => e.Kind).Take(5), Is.EqualTo(new[] { K.RequestStart, K.ConnectionCreateStart, K.ConnectionCreateEnd, K.RequestHeadersSent, K.RequestChunkSent }));
            Assert.That(events[4].ChunkLength, Is.EqualTo(3));
        }
    }

    [Test]
    public async Task Queueing_dns_and_exceptions_are_reported()
    {
        var connector = new TcpConnector(new TcpConnectorOptions { Limit = 1 });
        using var session = new ClientSession(new ClientSessionOptions { Connector = connector });
        var events = new List<TraceEvent>();
        using var _ = session.Trace.Subscribe(e => { lock (events) events.Add(e); });
        // StreamResponse: the small body stays on the only connection, so the second request queues.
        var first = await session.Get($"http://localhost:{Server.Port}/hello", new RequestOptions { StreamResponse = true });
        var second = session.Get($"http://localhost:{Server.Port}/hello").ToTask();
        await Wait.Until(() => connector.CurrentState.Waiting == 1);
        await first.Read();
        (await second).Release();
        Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get("http://127.0.0.1:1/"));
        List<K> kinds;
        lock (events) kinds = events.Select(e => e.Kind).ToList();
        Assert.That(kinds, Does.Contain(K.DnsCacheMiss).And.Contain(K.DnsResolveHostStart).And.Contain(K.DnsResolveHostEnd));
        Assert.That(kinds, Does.Contain(K.ConnectionQueuedStart).And.Contain(K.ConnectionQueuedEnd));
        Assert.That(kinds.Last(), Is.EqualTo(K.RequestException));
        Assert.That(events.Last().Exception, Is.InstanceOf<ClientConnectorError>());
    }

    [Test]
    public async Task A_second_lookup_within_the_ttl_is_a_dns_cache_hit()
    {
        // ForceClose so the second request opens a new connection and resolves again.
        var connector = new TcpConnector(new TcpConnectorOptions { ForceClose = true });
        using var session = new ClientSession(new ClientSessionOptions { Connector = connector });
        var events = new List<TraceEvent>();
        using var _ = session.Trace.Subscribe(e => { lock (events) events.Add(e); });
        await session.Get($"http://localhost:{Server.Port}/hello").SelectMany(r => r.Read());
        int firstCount;
        lock (events) firstCount = events.Count;
        await session.Get($"http://localhost:{Server.Port}/hello").SelectMany(r => r.Read());
        List<K> first, second;
        lock (events)
        {
            first = events.Take(firstCount).Select(e => e.Kind).ToList();
            second = events.Skip(firstCount).Select(e => e.Kind).ToList();
        }
        Assert.That(first, Does.Contain(K.DnsCacheMiss).And.Not.Contain(K.DnsCacheHit));
        Assert.That(second, Does.Contain(K.DnsCacheHit).And.Not.Contain(K.DnsCacheMiss).And.Not.Contain(K.DnsResolveHostStart));
    }

    [Test]
    public async Task A_request_disposed_before_its_response_ends_with_a_cancellation_exception()
    {
        using var session = new ClientSession();
        var events = new List<TraceEvent>();
        using var _ = session.Trace.Subscribe(e => { lock (events) events.Add(e); });
        var subscription = session.Get(Server.Url("never")).Subscribe(_ => { }, _ => { });
        await Wait.Until(() => session.Connector.CurrentState.InUse == 1);
        subscription.Dispose();
        lock (events)
        {
            Assert.That(events.Last().Kind, Is.EqualTo(K.RequestException));
            Assert.That(events.Last().Exception, Is.InstanceOf<OperationCanceledException>());
            Assert.That(events.Count(e => e.Kind == K.RequestException), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task A_request_the_closing_session_aborts_reports_its_end_before_the_trace_completes()
    {
        var session = new ClientSession();
        var events = new List<TraceEvent>();
        var completed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = session.Trace.Subscribe(e => { lock (events) events.Add(e); }, () => completed.TrySetResult(true));
        var failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var request = session.Get(Server.Url("never")).Subscribe(_ => { }, e => failed.TrySetResult(e));
        await Wait.Until(() => session.Connector.CurrentState.InUse == 1);
        session.Close();
        var error = await failed.Task.Within();
        await completed.Task.Within();
        lock (events)
        {
            // aiohttp's session.close() lets on_request_exception fire for the requests it cuts short.
            Assert.That(events.Select(e => e.Kind), Is.EqualTo(new[] { K.RequestStart, K.ConnectionCreateStart, K.ConnectionCreateEnd, K.RequestHeadersSent, K.RequestException }));
            Assert.That(events.Last().Exception, Is.SameAs(error));
        }
    }
}
