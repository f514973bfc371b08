using System.Reactive.Linq;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// Interop with foreign servers (Debian's python3-websockets and python3-aiohttp) and Kestrel: the done-criterion
/// echo of 10,000 mixed messages, 16 MiB messages, compression both ways, close codes.
/// </summary>
[TestFixture]
[NonParallelizable]
public class WsInteropTests
{
    private const string WebsocketsServer = """
        import asyncio, sys, websockets
        async def handler(ws, path):
            if path.startswith("/close"):
                await ws.close(code=int(path.split("/")[2]), reason="python says bye")
                return
            async for message in ws:
                await ws.send(message)
        async def main():
            async with websockets.serve(handler, "127.0.0.1", int(sys.argv[1]), max_size=None, compression="deflate"):
                await asyncio.Future()
        asyncio.run(main())
        """;

    private const string AiohttpServer = """
        import sys
        from aiohttp import web, WSMsgType
        async def echo(request):
            ws = web.WebSocketResponse(compress=True, max_msg_size=0)
            await ws.prepare(request)
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await ws.send_str(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await ws.send_bytes(msg.data)
            return ws
        async def close(request):
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.close(code=int(request.match_info["code"]), message=b"aiohttp says bye")
            return ws
        app = web.Application()
        app.add_routes([web.get("/echo", echo), web.get("/close/{code}", close)])
        web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
        """;

    private WsServers.PythonServer _websockets = null!;
    private WsServers.PythonServer _aiohttp = null!;
    private KestrelServer _kestrel = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _websockets = await WsServers.StartPythonAsync(WebsocketsServer);
        _aiohttp = await WsServers.StartPythonAsync(AiohttpServer);
        _kestrel = await WsServers.StartKestrelAsync();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _websockets?.Dispose();
        _aiohttp?.Dispose();
        if (_kestrel is not null) await _kestrel.DisposeAsync();
    }

    private string EchoUrl(string peer) => peer switch
    {
        "websockets" => _websockets.Url("/echo"),
        "aiohttp" => _aiohttp.Url("/echo"),
        _ => _kestrel.Url("ws/echo").Replace("http://", "ws://"),
    };

    /// <summary>10,000 messages, text and binary, 0 B to 1 MiB: mostly small, every 500th one large, the extremes included.</summary>
    private static List<(bool Text, byte[] Bytes)> MixedMessages(int seed)
    {
        var random = new Random(seed);
        var list = new List<(bool, byte[])>(10_000);
        for (var i = 0; i < 10_000; i++)
        {
            var size = i switch
            {
                0 => 0,
                1 => 1 << 20,
                _ when i % 500 == 0 => random.Next(64 * 1024, (1 << 20) + 1),
                _ => (int)Math.Pow(2, random.NextDouble() * 14) - 1,
            };
            var text = random.Next(2) == 0;
            byte[] bytes;
            if (text)
            {
                // Mixed 1- to 4-byte UTF-8 characters, cut to whole characters near the size.
                var sb = new StringBuilder(size);
                var alphabet = new[] { "a", "Z", " ", "é", "€", "😀", "\n" };
                var count = 0;
                while (true)
                {
                    var ch = alphabet[random.Next(alphabet.Length)];
                    var n = Encoding.UTF8.GetByteCount(ch);
                    if (count + n > size) break;
                    sb.Append(ch);
                    count += n;
                }
                bytes = Encoding.UTF8.GetBytes(sb.ToString());
            }
            else
            {
                bytes = new byte[size];
                // Half compressible, half random, so deflate sees both.
                if (random.Next(2) == 0) random.NextBytes(bytes);
                else for (var k = 0; k < bytes.Length; k++) bytes[k] = (byte)(k % 7);
            }
            list.Add((text, bytes));
        }
        return list;
    }

    [TestCase("kestrel", 0)]
    [TestCase("kestrel", 15)]
    [TestCase("websockets", 0)]
    [TestCase("websockets", 15)]
    [TestCase("aiohttp", 0)]
    [TestCase("aiohttp", 15)]
    public async Task Echo_of_10000_mixed_messages_round_trips_byte_exact(string peer, int compress)
    {
        var messages = MixedMessages(compress + peer.Length);
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(EchoUrl(peer), new WsConnectOptions { Compress = compress, MaxMsgSize = 0 });
        Assert.That(ws.Compress, Is.EqualTo(compress != 0));
        var received = new List<WsMessage>(messages.Count);
        var done = new TaskCompletionSource();
        using var sub = ws.Messages.Subscribe(m =>
        {
            received.Add(m);
            if (received.Count == messages.Count) done.TrySetResult();
        }, e => done.TrySetException(e), () => done.TrySetException(new AssertionException("closed early")));
        foreach (var (text, bytes) in messages)
        {
            if (text) await ws.SendStr(Encoding.UTF8.GetString(bytes));
            else await ws.SendBytes(bytes);
        }
        await done.Task.WaitAsync(TimeSpan.FromSeconds(120));
        for (var i = 0; i < messages.Count; i++)
        {
            var (text, bytes) = messages[i];
            var m = received[i];
            Assert.That(m.Type, Is.EqualTo(text ? WsMsgType.Text : WsMsgType.Binary), $"message {i}");
            var got = text ? Encoding.UTF8.GetBytes(m.Text!) : m.Data.ToArray();
            if (!got.AsSpan().SequenceEqual(bytes)) Assert.Fail($"message {i} ({bytes.Length} bytes) differs");
        }
        await ws.Close();
        Assert.That(ws.CloseCode, Is.EqualTo(1000));
    }

    [TestCase("websockets", 0)]
    [TestCase("websockets", 15)]
    [TestCase("aiohttp", 0)]
    [TestCase("aiohttp", 15)]
    public async Task Sixteen_MiB_messages_round_trip(string peer, int compress)
    {
        var payload = RandomNumberGenerator.GetBytes(16 << 20);
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(EchoUrl(peer), new WsConnectOptions { Compress = compress, MaxMsgSize = 0 });
        await ws.SendBytes(payload);
        var echo = await ws.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That(echo.Data.Span.SequenceEqual(payload), Is.True);
    }

    [Test]
    public async Task Default_size_limit_refuses_a_16_MiB_echo_with_1009()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(EchoUrl("websockets"));
        await ws.SendBytes(new byte[16 << 20]);
        var m = await ws.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That(m.Type, Is.EqualTo(WsMsgType.Error));
        Assert.That(ws.CloseCode, Is.EqualTo(1009));
    }

    [TestCase("websockets")]
    [TestCase("aiohttp")]
    public async Task Server_close_codes_and_reasons_arrive(string peer)
    {
        using var session = new ClientSession();
        var url = peer == "websockets" ? _websockets.Url("/close/4321") : _aiohttp.Url("/close/4321");
        await using var ws = await session.WsConnectAsync(url);
        var last = await ws.Messages.LastAsync().Timeout(TimeSpan.FromSeconds(10));
        Assert.That(last.Type, Is.EqualTo(WsMsgType.Close));
        Assert.That(last.CloseCode, Is.EqualTo(4321));
        Assert.That(last.Text, Is.EqualTo($"{(peer == "websockets" ? "python" : "aiohttp")} says bye"));
        Assert.That(ws.CloseCode, Is.EqualTo(4321));
        await Wait.Until(() => ws.Closed);
    }

    [TestCase("websockets")]
    [TestCase("aiohttp")]
    public async Task Client_close_code_is_echoed_by_the_server(string peer)
    {
        using var session = new ClientSession();
        var ws = await session.WsConnectAsync(EchoUrl(peer));
        await ws.SendStr("x");
        Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("x"));
        await ws.Close(4000, "client done").Timeout(TimeSpan.FromSeconds(10));
        Assert.That(ws.Closed, Is.True);
        Assert.That(ws.CloseCode, Is.EqualTo(peer == "websockets" ? 4000 : 1000), "websockets echoes the code; aiohttp answers 1000");
    }
}
