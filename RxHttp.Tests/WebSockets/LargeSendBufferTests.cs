using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// A websocket that has sent a large message does not keep its encoded copy: the frame (and compression) buffers
/// go back to the pool once it is written, as the receive side's do, instead of staying rented until the next send.
/// </summary>
[TestFixture]
public class LargeSendBufferTests
{
    [TestCase(0)]
    [TestCase(15)]
    public async Task A_large_message_is_not_held_once_written(int compress)
    {
        await using var server = await WsServers.StartKestrelAsync();
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(server.Url("ws/echo").Replace("http://", "ws://"),
            new WsConnectOptions { Compress = compress, MaxMsgSize = 0 });
        Assert.That(ws.Compress, Is.EqualTo(compress != 0));
        var echo = ws.Messages.FirstAsync().ToTask();
        // Random bytes: compression cannot shrink them, so the compressed copy is as large as the message.
        var big = new byte[8 << 20];
        new Random(7).NextBytes(big);

        await ws.SendBytes(big);

        Assert.That(ws.HeldSendBytes, Is.LessThanOrEqualTo(2 * 64 * 1024), "the 8 MiB frame buffer went back to the pool");
        var echoed = await echo.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(echoed.Data.Span.SequenceEqual(big), Is.True, "the message went out whole");
        await ws.SendStr("small after");
        Assert.That(ws.HeldSendBytes, Is.LessThanOrEqualTo(2 * 64 * 1024));
    }
}
