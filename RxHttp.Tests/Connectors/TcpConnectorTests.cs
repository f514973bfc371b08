using System.Net;
using System.Net.Sockets;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

[TestFixture]
public class TcpConnectorTests
{
    private const long Ms = TimeSpan.TicksPerMillisecond;

    private static Task<Connection> ConnectAsync(BaseConnector c, ConnectionKey key, ClientTimeout? timeout = null) =>
        c.Connect(key, timeout).FirstAsync().ToTask();

    [Test]
    public async Task Sequential_requests_reuse_one_connection_on_the_server()
    {
        await using var server = await KestrelServer.StartAsync();
        await using var session = new ClientSession(server.BaseUrl);
        for (var i = 0; i < 5; i++) Assert.That(await session.Get("hello").SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Thousand_concurrent_requests_through_a_limit_of_ten_never_open_more_than_ten_sockets()
    {
        await using var server = await KestrelServer.StartAsync();
        var connector = new TcpConnector(new TcpConnectorOptions { Limit = 10 });
        var maxOpen = 0;
        using var watch = connector.State.Subscribe(s => InterlockedMax(ref maxOpen, s.InUse + s.Idle + s.Opening));
        var session = new ClientSession(server.BaseUrl, new ClientSessionOptions { Connector = connector });
        var texts = await Enumerable.Range(0, 1000).Select(_ => session.Get("hello").SelectMany(r => r.Text())).Merge().ToList();
        Assert.That(texts, Has.Count.EqualTo(1000).And.All.EqualTo(KestrelServer.Hello));
        Assert.That(maxOpen, Is.LessThanOrEqualTo(10));
        Assert.That(server.ConnectionCount, Is.LessThanOrEqualTo(10), "accepted by the server, ever");
        await session.DisposeAsync();
        await Wait.Until(() => server.OpenConnections == 0, what: "every socket closed after DisposeAsync");
        Assert.That(connector.CurrentState.Open, Is.EqualTo(0));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    // First connection: answers one request with keep-alive, then reads the next and drops it unanswered.
    private static RawServer DroppingSecondRequest() => new(async c =>
    {
        var first = await c.ReadRequestAsync();
        if (first is null) return;
        var isFirstConnection = first.Contains("X-Step: 1");
        await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        if (!isFirstConnection) { while (await c.ReadRequestAsync() is not null) await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); return; }
        await c.ReadRequestAsync();
        c.Socket.Close(); // never answers the second request
    });

    [Test]
    public async Task A_get_on_a_connection_the_server_drops_is_retried_once_on_a_fresh_one()
    {
        await using var server = DroppingSecondRequest();
        await using var session = new ClientSession();
        var step1 = new RequestOptions { Headers = new Dictionary<string, string> { ["X-Step"] = "1" } };
        Assert.That(await session.Get(server.Url(), step1).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }

    [Test]
    public async Task A_post_on_a_connection_the_server_drops_is_not_retried()
    {
        await using var server = DroppingSecondRequest();
        await using var session = new ClientSession();
        var step1 = new RequestOptions { Headers = new Dictionary<string, string> { ["X-Step"] = "1" } };
        Assert.That(await session.Get(server.Url(), step1).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.ThrowsAsync<ServerDisconnectedError>(async () => await session.Post(server.Url(), new RequestOptions { Data = "x" }));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_pooled_connection_the_server_already_closed_is_discarded_so_even_a_post_succeeds()
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            if (!closed.Task.IsCompleted)
            {
                c.Socket.Close();
                closed.TrySetResult();
            }
        });
        await using var session = new ClientSession();
        await session.Get(server.Url()).SelectMany(r => r.Text());
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1));
        await Task.Delay(50); // let the FIN cross loopback (a guard, not a timing assertion)
        Assert.That(await session.Post(server.Url(), new RequestOptions { Data = "x" }).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }

    [Test]
    public void Refused_connection_is_a_ClientConnectorError_with_host_port_and_socket_exception()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var connector = new TcpConnector();
        var e = Assert.ThrowsAsync<ClientConnectorError>(() => ConnectAsync(connector, new ConnectionKey("127.0.0.1", port, false)));
        Assert.That(e!.Host, Is.EqualTo("127.0.0.1"));
        Assert.That(e.Port, Is.EqualTo(port));
        Assert.That(e.InnerException, Is.InstanceOf<SocketException>());
        Assert.That(e.SocketError, Is.EqualTo(SocketError.ConnectionRefused));
        Assert.That(e.Message, Is.EqualTo($"Cannot connect to host 127.0.0.1:{port} [{e.InnerException!.Message}]"), "aiohttp's form, the host named once");
        Assert.That(connector.CurrentState.Opening + connector.CurrentState.InUse, Is.EqualTo(0));
    }

    [Test]
    public void Resolver_failure_is_a_ClientConnectorDnsError()
    {
        var resolver = new FakeResolver { Fail = new SocketException((int)SocketError.HostNotFound) };
        using var connector = new TcpConnector(new TcpConnectorOptions { Resolver = resolver });
        var e = Assert.ThrowsAsync<ClientConnectorDnsError>(() => ConnectAsync(connector, new ConnectionKey("nowhere.test", 80, false)));
        Assert.That(e!.Host, Is.EqualTo("nowhere.test"));
        Assert.That(e.InnerException, Is.InstanceOf<SocketException>());
        Assert.That(e.Message, Is.EqualTo($"Cannot connect to host nowhere.test:80 [{e.InnerException!.Message}]"), "aiohttp's form, the host named once");
    }

    [Test]
    public async Task Dns_cache_keeps_answers_for_the_ttl_on_the_scheduler_and_can_be_cleared()
    {
        using var listener = new Blackhole();
        var scheduler = new SocketTestScheduler();
        var resolver = new FakeResolver(IPAddress.Loopback);
        using var connector = new TcpConnector(new TcpConnectorOptions { Resolver = resolver, Scheduler = scheduler, TtlDnsCache = TimeSpan.FromSeconds(10), ForceClose = true });
        var key = new ConnectionKey("cached.test", listener.Port, false);
        (await ConnectAsync(connector, key)).Close();
        (await ConnectAsync(connector, key)).Close();
        Assert.That(resolver.Lookups, Is.EqualTo(1));
        scheduler.AdvanceTo(10 * TimeSpan.TicksPerSecond - 1);
        (await ConnectAsync(connector, key)).Close();
        Assert.That(resolver.Lookups, Is.EqualTo(1), "still fresh one tick before the TTL");
        scheduler.AdvanceTo(10 * TimeSpan.TicksPerSecond);
        (await ConnectAsync(connector, key)).Close();
        Assert.That(resolver.Lookups, Is.EqualTo(2), "expired at the TTL");
        connector.ClearDnsCache("cached.test", listener.Port);
        (await ConnectAsync(connector, key)).Close();
        Assert.That(resolver.Lookups, Is.EqualTo(3));
        connector.ClearDnsCache();
        (await ConnectAsync(connector, key)).Close();
        Assert.That(resolver.Lookups, Is.EqualTo(4));
        Assert.Throws<ArgumentException>(() => connector.ClearDnsCache("cached.test"));
    }

    [Test]
    public async Task Without_the_dns_cache_every_connection_resolves()
    {
        using var listener = new Blackhole();
        var resolver = new FakeResolver(IPAddress.Loopback);
        using var connector = new TcpConnector(new TcpConnectorOptions { Resolver = resolver, UseDnsCache = false, ForceClose = true });
        Assert.That(connector.UseDnsCache, Is.False);
        var key = new ConnectionKey("uncached.test", listener.Port, false);
        (await ConnectAsync(connector, key)).Close();
        (await ConnectAsync(connector, key)).Close();
        Assert.That(resolver.Lookups, Is.EqualTo(2));
    }

    [Test]
    public async Task Concurrent_lookups_of_one_host_are_coalesced()
    {
        using var listener = new Blackhole();
        var resolver = new FakeResolver(IPAddress.Loopback);
        resolver.Hold();
        using var connector = new TcpConnector(new TcpConnectorOptions { Resolver = resolver });
        var key = new ConnectionKey("busy.test", listener.Port, false);
        var all = Enumerable.Range(0, 3).Select(_ => ConnectAsync(connector, key)).ToList();
        await Wait.Until(() => resolver.Lookups == 1 && connector.CurrentState.Opening == 3);
        resolver.Resume();
        var conns = await Task.WhenAll(all).Within(10);
        Assert.That(resolver.Lookups, Is.EqualTo(1));
        Assert.That(conns.Distinct().Count(), Is.EqualTo(3));
        foreach (var c in conns) c.Close();
    }

    [Test]
    public async Task Family_keeps_only_addresses_of_that_family()
    {
        using var listener = new Blackhole();
        var resolver = new FakeResolver(IPAddress.IPv6Loopback, IPAddress.Loopback);
        using var v4 = new TcpConnector(new TcpConnectorOptions { Resolver = resolver, Family = AddressFamily.InterNetwork, HappyEyeballsDelay = null });
        var c = await ConnectAsync(v4, new ConnectionKey("dual.test", listener.Port, false));
        Assert.That(resolver.LastFamily, Is.EqualTo(AddressFamily.InterNetwork));
        Assert.That(((IPEndPoint)c.Socket!.RemoteEndPoint!).Address, Is.EqualTo(IPAddress.Loopback));
        Assert.That(v4.ConnectAttempts, Is.EqualTo(1), "::1 was never tried");
        c.Close();

        using var v6 = new TcpConnector(new TcpConnectorOptions { Resolver = new FakeResolver(IPAddress.Loopback), Family = AddressFamily.InterNetworkV6 });
        Assert.ThrowsAsync<ClientConnectorDnsError>(() => ConnectAsync(v6, new ConnectionKey("v4only.test", listener.Port, false)));
    }

    [Test]
    public async Task Local_address_binds_the_client_side()
    {
        using var listener = new Blackhole();
        using var connector = new TcpConnector(new TcpConnectorOptions { LocalAddress = new IPEndPoint(IPAddress.Parse("127.0.0.3"), 0) });
        var c = await ConnectAsync(connector, new ConnectionKey("127.0.0.1", listener.Port, false));
        using var accepted = await listener.Answering.AcceptAsync().Within(5);
        Assert.That(((IPEndPoint)accepted.RemoteEndPoint!).Address, Is.EqualTo(IPAddress.Parse("127.0.0.3")));
        c.Close();
    }

    [Test]
    public async Task Happy_eyeballs_starts_the_next_address_after_the_delay_and_keeps_the_one_that_answers()
    {
        using var hole = new Blackhole();
        var scheduler = new SocketTestScheduler();
        var resolver = new FakeResolver(IPAddress.Parse("127.0.0.2"), IPAddress.Loopback);
        using var connector = new TcpConnector(new TcpConnectorOptions { Resolver = resolver, Scheduler = scheduler });
        var task = ConnectAsync(connector, new ConnectionKey("racy.test", hole.Port, false));
        await Wait.Until(() => connector.ConnectAttempts == 1);
        await Task.Delay(20); // the first attempt is in flight: its SYN goes unanswered
        scheduler.AdvanceTo(250 * Ms - 1);
        Assert.That(connector.ConnectAttempts, Is.EqualTo(1));
        Assert.That(task.IsCompleted, Is.False);
        scheduler.AdvanceTo(250 * Ms);
        var c = await task.Within(5);
        Assert.That(connector.ConnectAttempts, Is.EqualTo(2));
        Assert.That(((IPEndPoint)c.Socket!.RemoteEndPoint!).Address, Is.EqualTo(IPAddress.Loopback));
        c.Close();
    }

    [Test]
    public async Task Sock_connect_times_out_each_attempt_at_its_tick()
    {
        using var hole = new Blackhole();
        var scheduler = new SocketTestScheduler();
        var resolver = new FakeResolver(IPAddress.Parse("127.0.0.2"));
        using var connector = new TcpConnector(new TcpConnectorOptions { Resolver = resolver, Scheduler = scheduler });
        var timeout = new ClientTimeout { SockConnect = TimeSpan.FromSeconds(1) };
        var task = ConnectAsync(connector, new ConnectionKey("slow.test", hole.Port, false), timeout);
        await Wait.Until(() => connector.ConnectAttempts == 1);
        await Task.Delay(20);
        scheduler.AdvanceTo(TimeSpan.TicksPerSecond - 1);
        await Task.Delay(20);
        Assert.That(task.IsCompleted, Is.False);
        scheduler.AdvanceTo(TimeSpan.TicksPerSecond);
        var e = Assert.ThrowsAsync<ConnectionTimeoutError>(() => task.Within(5));
        Assert.That(e!.Message, Does.Contain("slow.test"));
        await Wait.Until(() => connector.CurrentState.Opening == 0);
    }

    [Test]
    public async Task Sock_connect_from_the_session_timeout_reaches_the_connector()
    {
        using var hole = new Blackhole();
        var scheduler = new SocketTestScheduler();
        var connector = new TcpConnector(new TcpConnectorOptions { Resolver = new FakeResolver(IPAddress.Parse("127.0.0.2")), Scheduler = scheduler });
        await using var session = new ClientSession(new ClientSessionOptions { Connector = connector, Scheduler = scheduler, Timeout = new ClientTimeout { SockConnect = TimeSpan.FromMilliseconds(300) } });
        var task = session.Get($"http://slow.test:{hole.Port}/").FirstAsync().ToTask();
        await Wait.Until(() => connector.ConnectAttempts == 1);
        await Task.Delay(20);
        scheduler.AdvanceTo(300 * Ms);
        Assert.ThrowsAsync<ConnectionTimeoutError>(() => task.Within(5));
    }

    [Test]
    public async Task Sock_connect_bounds_the_tls_handshake_of_a_server_that_accepts_and_stays_silent()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var scheduler = new SocketTestScheduler();
        using var connector = new TcpConnector(new TcpConnectorOptions { Scheduler = scheduler, Tls = TlsOptions.NoVerify });
        var timeout = new ClientTimeout { SockConnect = TimeSpan.FromSeconds(1) };
        var task = ConnectAsync(connector, new ConnectionKey("127.0.0.1", port, true), timeout);
        using var accepted = await listener.AcceptSocketAsync().Within(5);
        // The ClientHello arrives, and no answer ever goes back.
        var hello = new byte[16 * 1024];
        Assert.That(await accepted.ReceiveAsync(hello, SocketFlags.None).Within(5), Is.GreaterThan(0));
        scheduler.AdvanceTo(TimeSpan.TicksPerSecond - 1);
        Assert.That(task.IsCompleted, Is.False, "still in the handshake one tick before SockConnect");
        scheduler.AdvanceTo(TimeSpan.TicksPerSecond);
        var e = Assert.ThrowsAsync<ConnectionTimeoutError>(() => task.Within(5));
        Assert.That(e!.Message, Does.Contain($"127.0.0.1:{port}"));
        await Wait.Until(() => connector.CurrentState.Opening == 0, what: "the opening to end");
        Assert.That(await accepted.ReceiveAsync(hello, SocketFlags.None).Within(5), Is.EqualTo(0), "the client closed its socket");
    }

    [Test]
    public async Task Sock_connect_bounds_a_websocket_handshake_connect_too()
    {
        using var hole = new Blackhole();
        var scheduler = new SocketTestScheduler();
        var connector = new TcpConnector(new TcpConnectorOptions { Resolver = new FakeResolver(IPAddress.Parse("127.0.0.2")), Scheduler = scheduler });
        await using var session = new ClientSession(new ClientSessionOptions { Connector = connector, Scheduler = scheduler, Timeout = new ClientTimeout { SockConnect = TimeSpan.FromMilliseconds(300) } });
        var task = session.WsConnectAsync($"ws://slow.test:{hole.Port}/");
        await Wait.Until(() => connector.ConnectAttempts == 1);
        scheduler.AdvanceTo(300 * Ms - 1);
        Assert.That(task.IsCompleted, Is.False, "still connecting one tick before SockConnect");
        scheduler.AdvanceTo(300 * Ms);
        Assert.ThrowsAsync<ConnectionTimeoutError>(() => task.Within(5));
    }
}
