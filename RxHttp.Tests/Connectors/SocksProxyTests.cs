using System.Net;
using System.Net.Sockets;
using System.Reactive.Linq;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;
using RxHttp.Tests.WebSockets;

namespace RxHttp.Tests.Connectors;

/// <summary>A real microsocks (Debian package <c>microsocks</c>): a SOCKS5 proxy, open or with a user and password.</summary>
internal sealed class Microsocks(string? user = null, string? password = null, string? bind = null) : IDisposable
{
    private readonly LocalDaemon _daemon = Start(user, password, bind);

    private static LocalDaemon Start(string? user, string? password, string? bind)
    {
        var port = LocalDaemon.FreePort();
        return new LocalDaemon("microsocks", $"-i 127.0.0.1 -p {port}" + (user is null ? "" : $" -u {user} -P {password}") + (bind is null ? "" : $" -b {bind}"), port);
    }

    public int Port => _daemon.Port;

    public string Url(string scheme = "socks5", string? credentials = null) => $"{scheme}://{(credentials is null ? "" : credentials + "@")}127.0.0.1:{Port}";

    public void Dispose() => _daemon.Dispose();
}

/// <summary>
/// SOCKS proxies: a real microsocks that connects out from 127.0.0.2 (so the origin tells a proxied request from a
/// direct one), for plain http, https and a websocket, with and without credentials; and raw SOCKS servers for
/// SOCKS4/4a's bytes, replies dribbled one byte at a time, refusals and a proxy that breaks the protocol.
/// </summary>
[TestFixture]
public class SocksProxyTests
{
    private KestrelServer _http = null!;
    private KestrelServer _https = null!;
    private Microsocks _open = null!;
    private Microsocks _auth = null!;

    private static void Routes(WebApplication app)
    {
        app.UseWebSockets();
        app.MapGet("/peer", (HttpContext c) => c.Connection.RemoteIpAddress!.ToString());
        app.Map("/ws", async c =>
        {
            using var ws = await c.WebSockets.AcceptWebSocketAsync();
            await ws.SendAsync(Encoding.UTF8.GetBytes(c.Connection.RemoteIpAddress!.ToString()), System.Net.WebSockets.WebSocketMessageType.Text, true, default);
            await WsServers.EchoAsync(ws);
        });
    }

    [OneTimeSetUp]
    public async Task Start()
    {
        _http = await KestrelServer.StartAsync(Routes);
        _https = await KestrelServer.StartAsync(Routes, certificate: KestrelServer.MakeCertificate());
        _open = new Microsocks(bind: "127.0.0.2");
        _auth = new Microsocks("alice", "s3cret", bind: "127.0.0.2");
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _open.Dispose();
        _auth.Dispose();
        await _http.DisposeAsync();
        await _https.DisposeAsync();
    }

    private static IObservable<string> Peer(ClientSession session, string url, Url proxy) =>
        session.Get(url, new RequestOptions { Proxy = proxy }).SelectMany(r => r.Text());

    [TestCase("socks5", "127.0.0.1")]
    [TestCase("socks5h", "localhost")]
    public async Task Plain_http_goes_over_the_proxy_connection_in_origin_form(string scheme, string host)
    {
        await using var session = new ClientSession();
        var url = $"http://{host}:{_http.Port}/peer";
        Assert.That(await Peer(session, url, _open.Url(scheme)), Is.EqualTo("127.0.0.2"), "the origin saw the proxy's address");
        Assert.That(await Peer(session, url, _open.Url(scheme)), Is.EqualTo("127.0.0.2"));
        Assert.That(session.Connector.CurrentState, Has.Property("Open").EqualTo(1), "both requests on one pooled SOCKS connection");
        Assert.That(await session.Get(url).SelectMany(r => r.Text()), Is.EqualTo("127.0.0.1"), "without the proxy, a connection of its own");
    }

    [Test]
    public async Task Https_runs_tls_to_the_origin_over_the_proxy_connection()
    {
        await using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = new TcpConnector(new TcpConnectorOptions { Tls = TlsOptions.NoVerify }),
            Proxy = new ProxySettings(_open.Url("socks5h")),
        });
        Assert.That(await session.Get($"https://localhost:{_https.Port}/peer").SelectMany(r => r.Text()), Is.EqualTo("127.0.0.2"));
    }

    [Test]
    public async Task A_websocket_goes_through_the_proxy()
    {
        await using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync($"ws://127.0.0.1:{_http.Port}/ws", new WsConnectOptions { Proxy = _open.Url() });
        Assert.That(await ws.ReceiveStrAsync(), Is.EqualTo("127.0.0.2"));
        await ws.SendStr("over socks");
        Assert.That(await ws.ReceiveStrAsync(), Is.EqualTo("over socks"));
    }

    [Test]
    public async Task Credentials_go_as_user_name_and_password_and_a_refusal_is_typed()
    {
        await using var session = new ClientSession();
        var url = $"http://127.0.0.1:{_http.Port}/peer";
        Assert.That(await Peer(session, url, _auth.Url(credentials: "alice:s3cret")), Is.EqualTo("127.0.0.2"));
        var wrong = Assert.ThrowsAsync<ClientProxyConnectionError>(async () => await Peer(session, url, _auth.Url(credentials: "alice:nope")));
        Assert.That(wrong!.Message, Does.Contain("refused the user name and password"));
        Assert.That((wrong.Host, wrong.Port), Is.EqualTo(("127.0.0.1", _auth.Port)));
        var none = Assert.ThrowsAsync<ClientProxyConnectionError>(async () => await Peer(session, url, _auth.Url()));
        Assert.That(none!.Message, Does.Contain("requires authentication"));
        Assert.That(session.Connector.CurrentState, Has.Property("InUse").EqualTo(0));
    }

    [Test]
    public async Task A_target_the_proxy_cannot_reach_fails_with_the_proxys_reason()
    {
        await using var session = new ClientSession();
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var e = Assert.ThrowsAsync<ClientProxyConnectionError>(async () => await Peer(session, $"http://127.0.0.1:{port}/", _open.Url()));
        Assert.That(e!.Message, Does.Contain($"could not connect to 127.0.0.1:{port}"));
    }

    [Test]
    public void Socks_urls_are_accepted_with_port_1080_by_default_and_others_are_not()
    {
        Assert.That(new ProxySettings("socks5://alice:pw@proxy.test").Url.ToString(), Is.EqualTo("socks5://proxy.test:1080/"));
        Assert.That(new ProxySettings("socks4a://[::1]:9050").Auth, Is.Null);
        Assert.That(new ProxySettings("socks5h://alice:pw@proxy.test:1081").Auth!.Password, Is.EqualTo("pw"));
        Assert.Throws<ArgumentException>(() => _ = new ProxySettings("ftp://proxy.test"));
        Assert.That(ProxyEnvironment.For(Url.Parse("https://x.test/"), n => n == "ALL_PROXY" ? "socks5h://p.test:1" : null)?.Url.ToString(),
            Is.EqualTo("socks5h://p.test:1/"), "ALL_PROXY when no scheme's own is set");
        Assert.That(ProxyEnvironment.For(Url.Parse("https://x.test/"), n => n switch { "ALL_PROXY" => "socks5://a.test:1", "HTTPS_PROXY" => "http://h.test:2", _ => null })?.Url.ToString(),
            Is.EqualTo("http://h.test:2/"));
    }

    // A raw SOCKS server: runs the handshake script, then answers one HTTP request itself as the origin would.
    private static RawServer Raw(Func<RawServer.RawConnection, Task<bool>> handshake) => new(async c =>
    {
        if (!await handshake(c)) return;
        if (await c.ReadRequestAsync() is null) return;
        await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nthrough");
        await c.WaitForCloseAsync();
    });

    private static async Task<byte[]> Read(RawServer.RawConnection c, int count)
    {
        var buffer = new byte[count];
        var got = 0;
        while (got < count)
        {
            var n = await c.Socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None);
            if (n == 0) throw new EndOfStreamException();
            got += n;
        }
        return buffer;
    }

    [TestCase("socks4", "127.0.0.1", new byte[] { 4, 1, 0x1F, 0x90, 127, 0, 0, 1, (byte)'b', (byte)'o', (byte)'b', 0 })]
    [TestCase("socks4a", "origin.test", new byte[] { 4, 1, 0x1F, 0x90, 0, 0, 0, 1, (byte)'b', (byte)'o', (byte)'b', 0,
        (byte)'o', (byte)'r', (byte)'i', (byte)'g', (byte)'i', (byte)'n', (byte)'.', (byte)'t', (byte)'e', (byte)'s', (byte)'t', 0 })]
    public async Task Socks4_sends_the_address_or_name_and_the_user_id(string scheme, string host, byte[] expected)
    {
        byte[]? seen = null;
        await using var proxy = Raw(async c =>
        {
            seen = await Read(c, expected.Length);
            await c.WriteAsync([0, 0x5A, 0, 0, 0, 0, 0, 0], dribble: true);
            return true;
        });
        await using var session = new ClientSession();
        var text = await session.Get($"http://{host}:8080/x", new RequestOptions { Proxy = $"{scheme}://bob@127.0.0.1:{proxy.Port}" }).SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo("through"));
        Assert.That(seen, Is.EqualTo(expected));
        Assert.That(proxy.Requests.Single(), Does.StartWith("GET /x HTTP/1.1\r\n"), "origin form: the proxy is no HTTP proxy");
    }

    [Test]
    public async Task Socks5_reads_a_reply_with_a_domain_bound_address_dribbled_one_byte_at_a_time()
    {
        await using var proxy = Raw(async c =>
        {
            Assert.That(await Read(c, 3), Is.EqualTo(new byte[] { 5, 1, 0 }));
            await c.WriteAsync([5, 0], dribble: true);
            var head = await Read(c, 5);
            Assert.That(head[..4], Is.EqualTo(new byte[] { 5, 1, 0, 3 }));
            Assert.That(Encoding.ASCII.GetString(await Read(c, head[4] + 2)), Is.EqualTo("origin.test\u0000\u0050"));
            await c.WriteAsync([5, 0, 0, 3, 4, .. "bind"u8, 0x12, 0x34], dribble: true);
            return true;
        });
        await using var session = new ClientSession();
        Assert.That(await session.Get("http://origin.test/", new RequestOptions { Proxy = $"socks5h://127.0.0.1:{proxy.Port}" }).SelectMany(r => r.Text()),
            Is.EqualTo("through"), "the bound address was read whole: nothing of it was taken for the response");
    }

    [TestCase("socks5h", "127.0.0.1", new byte[] { 1, 127, 0, 0, 1 })]
    [TestCase("socks5", "[::1]", new byte[] { 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 })]
    [TestCase("socks5", "localhost", new byte[] { 1, 127, 0, 0, 1 })] // resolved here: socks5 without h
    public async Task Socks5_sends_an_address_as_its_type_and_a_name_only_with_h(string scheme, string host, byte[] address)
    {
        byte[]? seen = null;
        await using var proxy = Raw(async c =>
        {
            await Read(c, 3);
            await c.WriteAsync([5, 0]);
            seen = await Read(c, 3 + address.Length + 2);
            await c.WriteAsync([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
            return true;
        });
        await using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = new TcpConnector(new TcpConnectorOptions { Family = AddressFamily.InterNetwork }),
        });
        Assert.That(await session.Get($"http://{host}:8080/", new RequestOptions { Proxy = $"{scheme}://127.0.0.1:{proxy.Port}" }).SelectMany(r => r.Text()), Is.EqualTo("through"));
        byte[] expected = [5, 1, 0, .. address, 0x1F, 0x90];
        Assert.That(seen, Is.EqualTo(expected));
    }

    [TestCase(new byte[] { 4, 0 }, "version 4")]
    [TestCase(new byte[] { 5, 0xFF }, "requires authentication")]
    [TestCase(new byte[] { 5, 2 }, "chose authentication method 2, which was not offered")]
    [TestCase(new byte[] { 5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0 }, "not allowed by the proxy's rules")]
    [TestCase(new byte[] { 5, 0, 5, 0, 0, 9 }, "address type 9")]
    [TestCase(new byte[] { 5, 0, 5, 0 }, "closed the connection during the handshake")]
    public async Task A_proxy_that_refuses_or_breaks_the_protocol_fails_with_ClientProxyConnectionError(byte[] replies, string message)
    {
        await using var proxy = new RawServer(async c =>
        {
            await Read(c, 3);
            await c.WriteAsync(replies[..2]);
            if (replies.Length == 2) { await c.WaitForCloseAsync(); return; }
            await Read(c, 10);
            await c.WriteAsync(replies[2..]);
            c.Socket.Close();
        });
        await using var session = new ClientSession();
        var e = Assert.ThrowsAsync<ClientProxyConnectionError>(async () =>
            await session.Get("http://127.0.0.1:8080/", new RequestOptions { Proxy = $"socks5://127.0.0.1:{proxy.Port}" }));
        Assert.That(e!.Message, Does.Contain(message));
        Assert.That(session.Connector.CurrentState, Has.Property("Open").EqualTo(0), "the proxy connection was closed");
    }
}
