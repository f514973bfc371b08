using System.Net.Sockets;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Http1;

/// <summary>
/// A 101 Switching Protocols answer to a request other than a websocket handshake: its connection speaks another
/// protocol now, so reading the (empty) body or releasing the response closes it, and a caller that asked for the
/// upgrade detaches it and reads what the server sent right behind the head before the socket's own bytes.
/// </summary>
[TestFixture]
public class UpgradeResponseTests
{
    private const string Switch = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-echo\r\nConnection: Upgrade\r\n\r\n";

    // Answers 101 with some bytes of the new protocol behind it, then keeps the connection open until the client closes.
    private static RawServer Upgrading() => new(async c =>
    {
        if (await c.ReadRequestAsync() is null) return;
        await c.WriteAsync(Switch + "xyz");
        await c.WaitForCloseAsync();
    });

    [Test]
    public async Task Reading_the_body_of_a_101_closes_its_connection()
    {
        await using var server = Upgrading();
        using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.Empty);
        Assert.That(session.Connector.CurrentState, Has.Property("InUse").EqualTo(0).And.Property("Idle").EqualTo(0),
            "the slot is free and nothing went back to the pool");
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Test]
    public async Task Disposing_a_101_response_closes_its_connection()
    {
        await using var server = Upgrading();
        using var session = new ClientSession();
        using (var response = await session.Get(server.Url())) Assert.That(response.Status, Is.EqualTo(101));
        Assert.That(session.Connector.CurrentState, Has.Property("InUse").EqualTo(0).And.Property("Idle").EqualTo(0));
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Test]
    public async Task A_detached_upgraded_connection_reads_the_bytes_behind_the_head_then_talks_the_new_protocol()
    {
        await using var server = new RawServer(async c =>
        {
            if (await c.ReadRequestAsync() is null) return;
            await c.WriteAsync(Switch + "xyz");
            // The new protocol: echo what comes, until the client closes.
            var buffer = new byte[64];
            int n;
            while ((n = await c.Socket.ReceiveAsync(buffer, SocketFlags.None)) > 0) await c.Socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
        });
        using var session = new ClientSession();
        using var response = await session.Get(server.Url(), new RequestOptions
        {
            Headers = new Dictionary<string, string> { ["Upgrade"] = "x-echo", ["Connection"] = "Upgrade" },
        });
        // The head and "xyz" came in one segment, so the connection had read them together.
        await using var stream = response.Connection!.Detach();
        Assert.That(session.Connector.CurrentState, Has.Property("InUse").EqualTo(0), "a detached connection is no longer the pool's");
        Assert.That(await ReadExactly(stream, 3), Is.EqualTo("xyz"));
        await stream.WriteAsync("ping"u8.ToArray());
        Assert.That(await ReadExactly(stream, 4), Is.EqualTo("ping"));
        response.Release();
        await stream.WriteAsync("more"u8.ToArray());
        Assert.That(await ReadExactly(stream, 4), Is.EqualTo("more"), "releasing the response leaves a detached connection alone");
    }

    private static async Task<string> ReadExactly(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return Encoding.ASCII.GetString(buffer);
    }
}
