using System.Reactive.Linq;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A websocket handshake is a GET: on a pooled keep-alive connection the server drops as the upgrade goes out, it is
/// retried once on a fresh connection, as an HTTP GET is (and as HttpClient's ClientWebSocket over its pool is).
/// </summary>
[TestFixture]
public class WsStaleConnectionTests
{
    private static string Upgrade(string request)
    {
        var key = request.Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))[18..].Trim();
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        return $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n";
    }

    // The first connection answers a plain GET, then reads the next request and drops it unanswered; any later one
    // upgrades the handshake it is sent.
    private static RawServer DroppingTheRequestAfterAGet() => new(async c =>
    {
        var first = await c.ReadRequestAsync();
        if (first is null) return;
        if (first.Contains("Upgrade: websocket", StringComparison.OrdinalIgnoreCase))
        {
            await c.WriteAsync(Upgrade(first));
            // The client's close frame, answered by closing the socket: the test's dispose does not wait for a reply.
            await c.Socket.ReceiveAsync(new byte[256], System.Net.Sockets.SocketFlags.None);
            c.Socket.Close();
            return;
        }
        await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await c.ReadRequestAsync();
        c.Socket.Close();
    });

    [Test]
    public async Task A_handshake_on_a_pooled_connection_the_server_drops_is_retried_once_on_a_fresh_one()
    {
        await using var server = DroppingTheRequestAfterAGet();
        await using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));

        await using var ws = await session.WsConnectAsync(server.Url().Replace("http", "ws")).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(ws.Status, Is.EqualTo(101));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
        Assert.That(session.Connector.CurrentState.InUse + session.Connector.CurrentState.Idle, Is.EqualTo(0), "the dropped connection was closed, the upgraded one detached");
    }

    [Test]
    public async Task A_handshake_on_a_fresh_connection_the_server_drops_is_not_retried()
    {
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            c.Socket.Close();
        });
        await using var session = new ClientSession();

        Assert.ThrowsAsync<ServerDisconnectedError>(async () => await session.WsConnectAsync(server.Url().Replace("http", "ws")).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_handshake_whose_answer_was_cut_short_is_not_retried()
    {
        await using var server = new RawServer(async c =>
        {
            var first = await c.ReadRequestAsync();
            if (first is null || first.Contains("Upgrade: websocket", StringComparison.OrdinalIgnoreCase))
            {
                // Part of an answer: the server saw the upgrade, so it is not sent again.
                await c.WriteAsync("HTTP/1.1 101 Switching");
                c.Socket.Close();
                return;
            }
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            if (await c.ReadRequestAsync() is not null)
            {
                await c.WriteAsync("HTTP/1.1 101 Switching");
                c.Socket.Close();
            }
        });
        await using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));

        Assert.ThrowsAsync<ServerDisconnectedError>(async () => await session.WsConnectAsync(server.Url().Replace("http", "ws")).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }
}
