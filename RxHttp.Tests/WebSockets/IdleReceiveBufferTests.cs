using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// An idle websocket holds no receive buffer: its loop waits with a zero-byte read and rents a buffer only when
/// bytes are there (thousands of open websockets otherwise held 64 KiB each). Messages still arrive whole, over
/// plain TCP and TLS, including ones larger than the buffer.
/// </summary>
[TestFixture]
public class IdleReceiveBufferTests
{
    private static async Task EchoThenIdle(string url, WsConnectOptions options)
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(url, options);
        var received = new List<WsMessage>();
        using var subscription = ws.Messages.Subscribe(m => { lock (received) received.Add(m); });
        var big = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
        for (var i = 0; i < 3; i++)
        {
            await ws.SendStr("hello " + i);
            await ws.SendBytes(big);
            await Wait.Until(() => { lock (received) return received.Count == 2 * (i + 1); }, what: "both echoes");
            await Wait.Until(() => !ws.HoldsReceiveBuffer, what: $"the idle loop to give its buffer back (round {i})");
        }
        lock (received)
        {
            Assert.That(received.Where(m => m.Type == WsMsgType.Text).Select(m => m.Text), Is.EqualTo(new[] { "hello 0", "hello 1", "hello 2" }));
            Assert.That(received.Where(m => m.Type == WsMsgType.Binary).All(m => m.Data.Span.SequenceEqual(big)), Is.True);
        }
    }

    [Test]
    public async Task A_websocket_between_messages_holds_no_receive_buffer()
    {
        await using var server = await WsServers.StartKestrelAsync();
        await EchoThenIdle(server.Url("ws/echo").Replace("http://", "ws://"), new WsConnectOptions());
    }

    [Test]
    public async Task A_wss_websocket_between_messages_holds_no_receive_buffer()
    {
        await using var server = await WsServers.StartKestrelAsync(KestrelServer.MakeCertificate());
        await EchoThenIdle(server.Url("ws/echo").Replace("https://", "wss://"), new WsConnectOptions { Tls = TlsOptions.NoVerify });
    }
}
