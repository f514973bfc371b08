using System.Diagnostics.Metrics;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Diagnostics;

/// <summary>
/// RxHttp's Meter through a <see cref="MeterListener"/>, against Kestrel: the http.client.* instruments with the
/// tags System.Net.Http gives them, and RxHttp's own pool figures. Only measurements tagged with this fixture's
/// server port are read, so other tests' requests do not count.
/// </summary>
[TestFixture]
public class MetricsTests : KestrelFixture
{
    private MeterRecorder _recorder = null!;

    [SetUp]
    public void Listen() => _recorder = new MeterRecorder(Server.Port);

    [TearDown]
    public void StopListening() => _recorder.Dispose();

    [Test]
    public async Task Request_duration_carries_method_server_status_and_version()
    {
        using var session = new ClientSession();
        (await session.Get(Server.Url("hello"))).Release();
        (await session.Get(Server.Url("status/404"))).Release();
        var durations = _recorder.Of("http.client.request.duration");
        Assert.That(durations, Has.Count.EqualTo(2));
        var ok = durations[0];
        Assert.That(ok.Value, Is.GreaterThan(0).And.LessThan(60));
        Assert.That(ok.Tag("http.request.method"), Is.EqualTo("GET"));
        Assert.That(ok.Tag("server.address"), Is.EqualTo("127.0.0.1"));
        Assert.That(ok.Tag("url.scheme"), Is.EqualTo("http"));
        Assert.That(ok.Tag("http.response.status_code"), Is.EqualTo(200));
        Assert.That(ok.Tag("network.protocol.version"), Is.EqualTo("1.1"));
        Assert.That(ok.Has("error.type"), Is.False);
        Assert.That(durations[1].Tag("http.response.status_code"), Is.EqualTo(404));
        Assert.That(durations[1].Tag("error.type"), Is.EqualTo("404"));
        var histogram = (Histogram<double>)_recorder.Instrument("http.client.request.duration");
        Assert.That(histogram.Unit, Is.EqualTo("s"));
        Assert.That(histogram.Advice!.HistogramBucketBoundaries, Is.EqualTo(new[] { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10 }));
    }

    [Test]
    public async Task Active_requests_go_up_for_each_hop_and_back_to_zero()
    {
        using var session = new ClientSession();
        (await session.Get(Server.Url("redirect/1"))).Release();
        // A hop cut short by the Total timeout is cancelled, as HttpClient's timeout cancels its handler's SendAsync.
        Assert.ThrowsAsync<TotalTimeoutError>(async () => await session.Get(Server.Url("never"), new RequestOptions
        {
            Timeout = ClientTimeout.Default with { Total = TimeSpan.FromMilliseconds(200) },
        }));
        var active = _recorder.Of("http.client.active_requests");
        Assert.That(active.Select(m => m.Value), Is.EqualTo(new[] { 1.0, -1, 1, -1, 1, -1 }));
        Assert.That(active.Select(m => m.Tag("http.request.method")), Is.All.EqualTo("GET"));
        var durations = _recorder.Of("http.client.request.duration");
        Assert.That(durations.Select(m => m.Tag("http.response.status_code")), Is.EqualTo(new object?[] { 302, 200, null }));
        Assert.That(durations[2].Tag("error.type"), Is.EqualTo("System.OperationCanceledException"));
    }

    [Test]
    public async Task Open_connections_move_between_active_and_idle_and_close_to_zero()
    {
        using var buffer = ReadBufferSize.Release(); // Release() pools a connection whose body came with its head
        var session = new ClientSession();
        (await session.Get(Server.Url("hello"))).Release();
        (await session.Get(Server.Url("hello"))).Release();
        session.Close();
        var open = _recorder.Of("http.client.open_connections").Select(m => (m.Value, m.Tag("http.connection.state"))).ToList();
        Assert.That(open, Is.EqualTo(new (double, object?)[]
        {
            (1, "active"), (-1, "active"), (1, "idle"), // opened for the first request, back in the pool
            (-1, "idle"), (1, "active"), (-1, "active"), (1, "idle"), // reused by the second
            (-1, "idle"), // closed with the session
        }));
        var first = _recorder.Of("http.client.open_connections")[0];
        Assert.That(first.Tag("network.protocol.version"), Is.EqualTo("1.1"));
        Assert.That(first.Tag("network.peer.address"), Is.EqualTo("127.0.0.1"));
        var lifetime = _recorder.Of("http.client.connection.duration").Single();
        Assert.That(lifetime.Value, Is.GreaterThan(0));
        Assert.That(lifetime.Tag("server.port"), Is.EqualTo(Server.Port));
    }

    [Test]
    public async Task A_request_that_waits_for_a_slot_records_its_time_in_queue_and_the_pool_counts_it()
    {
        var connector = new TcpConnector(new TcpConnectorOptions { Limit = 1 });
        using var session = new ClientSession(new ClientSessionOptions { Connector = connector });
        var first = await session.Get(Server.Url("hello"), new RequestOptions { StreamResponse = true });
        var second = session.Get(Server.Url("hello")).ToTask();
        await Wait.Until(() => connector.CurrentState.Waiting == 1);
        Assert.That(_recorder.Sum("rxhttp.pool.waiting_requests"), Is.EqualTo(1));
        await first.Read();
        (await second).Release();
        Assert.That(_recorder.Sum("rxhttp.pool.waiting_requests"), Is.EqualTo(0));
        // The first request waited for its new connection, the second for the first's to come back (then reused it).
        var queued = _recorder.Of("http.client.request.time_in_queue");
        Assert.That(queued, Has.Count.EqualTo(2));
        Assert.That(queued.Select(m => m.Tag("http.request.method")), Is.All.EqualTo("GET"));
        Assert.That(queued.Select(m => m.Tag("network.protocol.version")), Is.All.EqualTo("1.1"));
        Assert.That(_recorder.Sum("rxhttp.pool.reused_connections"), Is.EqualTo(1));
    }

    [Test]
    public void A_connection_that_fails_to_open_still_records_the_time_in_queue()
    {
        // A port nothing listens on, this test's own, so only its measurements are read.
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        using var recorder = new MeterRecorder(port);
        using var session = new ClientSession();
        Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get($"http://127.0.0.1:{port}/"));
        // As HttpClient's pool records the wait in a finally: a dashboard of queue time sees failed connects too.
        var queued = recorder.Of("http.client.request.time_in_queue");
        Assert.That(queued, Has.Count.EqualTo(1));
        Assert.That(queued[0].Tag("http.request.method"), Is.EqualTo("GET"));
        Assert.That(queued[0].Tag("network.protocol.version"), Is.EqualTo("1.1"));
    }
}
