using System.Reactive.Linq;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Http1;

/// <summary>
/// <c>session.Request("CONNECT", url)</c> wrote the origin form, "CONNECT / HTTP/1.1", a malformed request that proxies
/// answer 400, where RFC 9112 §3.2.3 wants the authority form; aiohttp and HttpClient write "CONNECT host:port". And a
/// 2xx, which makes the connection a tunnel (RFC 9110 §9.3.6), put it back in the pool, so the next request went down
/// the tunnel. Now the target is host:port (port always, IPv6 bracketed) and a 2xx answer to CONNECT is handed over
/// like a 101: no body, never pooled, taken with <c>Connection.Detach()</c>. Over real sockets.
/// </summary>
[TestFixture]
public class ConnectMethodTests
{
    private const string Established = "HTTP/1.1 200 Connection established\r\n\r\n";

    // Answers CONNECT with 200 and then echoes, as the tunnel; answers anything else with a plain 200.
    private static RawServer Tunnelling() => new(async c =>
    {
        while (await c.ReadRequestAsync() is { } request)
        {
            if (!request.StartsWith("CONNECT ", StringComparison.Ordinal))
            {
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain");
                continue;
            }
            await c.WriteAsync(Established);
            var buffer = new byte[64];
            int n;
            while ((n = await c.Socket.ReceiveAsync(buffer, SocketFlags.None)) > 0) await c.Socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            return;
        }
    });

    [Test]
    public async Task Connect_sends_the_authority_form_and_hands_over_the_tunnel()
    {
        await using var server = Tunnelling();
        using var session = new ClientSession();
        using var response = await session.Request("CONNECT", server.Url("/ignored?x=1#f"));
        Assert.That(server.Requests[0], Does.StartWith($"CONNECT 127.0.0.1:{server.Port} HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\n"));
        Assert.That(response.Status, Is.EqualTo(200));
        await using var tunnel = response.Connection!.Detach();
        await tunnel.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[4];
        await tunnel.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(Encoding.ASCII.GetString(buffer), Is.EqualTo("ping"));
    }

    [Test]
    public async Task A_tunnel_is_never_pooled()
    {
        await using var server = Tunnelling();
        using var session = new ClientSession();
        using (var response = await session.Request("CONNECT", server.Url())) Assert.That(await response.Text(), Is.Empty);
        Assert.That(session.Connector.CurrentState, Has.Property("InUse").EqualTo(0).And.Property("Idle").EqualTo(0));
        using var next = await session.Get(server.Url("/next"));
        Assert.That(await next.Text(), Is.EqualTo("plain"), "the next request went to the server, not down the tunnel");
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }

    [Test]
    public async Task A_refused_connect_keeps_its_connection_for_the_next_request()
    {
        await using var server = RawServer.Respond("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nauth");
        using var session = new ClientSession();
        using (var refused = await session.Request("CONNECT", server.Url())) Assert.That(await refused.Text(), Is.EqualTo("auth"));
        using (var again = await session.Request("CONNECT", server.Url())) Assert.That(again.Status, Is.EqualTo(407));
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "only a 2xx makes a tunnel");
    }

    [Test]
    public async Task An_ipv6_target_is_bracketed()
    {
        await using var server = RawServer.Respond("HTTP/1.1 407 No\r\nContent-Length: 0\r\n\r\n", address: System.Net.IPAddress.IPv6Loopback);
        using var session = new ClientSession();
        using var response = await session.Request("CONNECT", $"http://[::1]:{server.Port}/");
        Assert.That(server.Requests[0], Does.StartWith($"CONNECT [::1]:{server.Port} HTTP/1.1\r\n"));
    }
}
