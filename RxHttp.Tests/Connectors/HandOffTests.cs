using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A connection released while a request of its key waits at the limit goes straight to that request: it must be as
/// sound as one taken from the idle list, which is checked for bytes and for the server's close before reuse.
/// </summary>
[TestFixture]
public class HandOffTests
{
    private static ClientSession LimitOne() =>
        new(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Limit = 1 }) });

    [Test]
    public async Task Bytes_the_server_sent_past_a_response_do_not_reach_the_request_waiting_for_its_connection()
    {
        // Every answer carries a second, unasked-for response behind its body.
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 Injected\r\n\r\n");
        using var session = LimitOne();
        var first = await session.Get(server.Url(), new RequestOptions { StreamResponse = true });
        var second = session.Get(server.Url()).SelectMany(async r => $"{r.Status} {await r.Text()}").FirstAsync().ToTask();
        await Wait.Until(() => session.Connector.CurrentState.Waiting == 1, what: "the second request to queue at the limit");
        Assert.That(await first.Text(), Is.EqualTo("ok"));
        Assert.That(await second.Within(10), Is.EqualTo("200 ok"), "the second request got its own answer, not the stray one");
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }

    [Test]
    [Platform("Linux")] // the test reads the socket's TCP state
    public async Task A_post_waiting_at_the_limit_does_not_get_a_connection_the_server_closed_after_its_answer()
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // An HTTP/1.1 server that closes after each answer without saying so.
        await using var server = new RawServer(async c =>
        {
            if (await c.ReadRequestAsync() is null) return;
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            c.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            closed.TrySetResult();
        });
        using var session = LimitOne();
        var first = await session.Post(server.Url(), new RequestOptions { Data = "a", StreamResponse = true });
        var second = session.Post(server.Url(), new RequestOptions { Data = "b" }).SelectMany(r => r.Text()).FirstAsync().ToTask();
        await Wait.Until(() => session.Connector.CurrentState.Waiting == 1, what: "the second request to queue at the limit");
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        var socket = first.Connection!.Socket!;
        await Wait.Until(() => PeerClosed(socket), what: "the server's close to reach the client");
        Assert.That(await first.Text(), Is.EqualTo("ok"));
        // A POST is not retried: only a check at hand-off keeps it off the closed connection.
        Assert.That(await second.Within(10), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
        Assert.That(session.Connector.CurrentState.InUse, Is.EqualTo(0));
    }

    // TCP_INFO's first byte is the socket's state; CLOSE_WAIT (8): the peer's FIN arrived (Linux).
    private static bool PeerClosed(System.Net.Sockets.Socket socket)
    {
        var info = new byte[8];
        socket.GetRawSocketOption(6, 11, info);
        return info[0] == 8;
    }
}
