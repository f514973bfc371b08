using System.Reactive.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NUnit.Framework;
using RxHttp.Tests.Support;
using static RxHttp.Tests.WebSockets.WsServers;

namespace RxHttp.Tests.WebSockets;

public sealed record WsPoint(int X, int Y);

[JsonSerializable(typeof(WsPoint))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
public partial class WsPointContext : JsonSerializerContext;

/// <summary>aiohttp's receive_str/receive_bytes/receive_json and send_frame, against a scripted server.</summary>
[TestFixture]
public class TypedReceiveAndSendFrameTests
{
    private static string WsUrl(RawServer server) => $"ws://127.0.0.1:{server.Port}/chat";

    [Test]
    public async Task Typed_receives_return_the_next_message_of_their_type()
    {
        await using var server = Raw(async c =>
        {
            await c.SendAsync(Text("hello"));
            await c.SendAsync(Frame(WsMsgType.Binary, new byte[] { 1, 2, 3 }));
            await c.SendAsync(Text("{\"x\":1,\"y\":2}"));
            await c.SendAsync(Text("{\"x\":3,\"y\":4}"));
            await c.EchoCloseAsync();
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        Assert.That(await ws.ReceiveStr().Timeout(TimeSpan.FromSeconds(10)), Is.EqualTo("hello"));
        Assert.That((await ws.ReceiveBytes().Timeout(TimeSpan.FromSeconds(10))).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(await ws.ReceiveJson(WsPointContext.Default.WsPoint).Timeout(TimeSpan.FromSeconds(10)), Is.EqualTo(new WsPoint(1, 2)));
#pragma warning disable IL2026, IL3050 // the reflection overload, on purpose
        Assert.That(await ws.ReceiveJson<WsPoint>().Timeout(TimeSpan.FromSeconds(10)), Is.EqualTo(new WsPoint(3, 4)));
#pragma warning restore IL2026, IL3050
    }

    [Test]
    public async Task A_message_of_another_type_fails_with_WsMessageTypeError_carrying_it()
    {
        await using var server = Raw(async c =>
        {
            await c.SendAsync(Frame(WsMsgType.Binary, new byte[] { 9 }));
            await c.SendAsync(Text("text"));
            await c.SendAsync(Text("not json"));
            await c.SendAsync(CloseFrame(1000));
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        var e = Assert.ThrowsAsync<WsMessageTypeError>(async () => await ws.ReceiveStr().Timeout(TimeSpan.FromSeconds(10)));
        Assert.That(e!.Expected, Is.EqualTo(WsMsgType.Text));
        Assert.That(e.Received.Type, Is.EqualTo(WsMsgType.Binary));
        Assert.That(e.Received.Data.ToArray(), Is.EqualTo(new byte[] { 9 }));
        var b = Assert.ThrowsAsync<WsMessageTypeError>(async () => await ws.ReceiveBytesAsync());
        Assert.That(b!.Received.Text, Is.EqualTo("text"), "the message was consumed, not lost: the next one came");
        Assert.ThrowsAsync<ClientPayloadError>(async () => await ws.ReceiveJsonAsync(WsPointContext.Default.WsPoint));
        var close = Assert.ThrowsAsync<WsMessageTypeError>(async () => await ws.ReceiveStrAsync());
        Assert.That(close!.Received.Type, Is.EqualTo(WsMsgType.Close));
        Assert.That(close, Is.InstanceOf<ClientError>());
    }

    [Test]
    public async Task SendFrame_writes_fragments_and_control_frames_as_given()
    {
        var frames = new TaskCompletionSource<List<(bool Fin, WsMsgType Opcode, byte[] Payload, bool Masked)>>();
        await using var server = Raw(async c =>
        {
            var got = new List<(bool, WsMsgType, byte[], bool)>();
            for (var i = 0; i < 4; i++) got.Add((await c.ReadFrameAsync())!.Value);
            frames.TrySetResult(got);
            await c.EchoCloseAsync();
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        await ws.SendFrame("hel"u8.ToArray(), WsMsgType.Text, fin: false);
        await ws.SendFrame("p"u8.ToArray(), WsMsgType.Ping);
        Assert.ThrowsAsync<InvalidOperationException>(async () => await ws.SendStr("interleaved"), "a data message inside a fragmented one");
        await ws.SendFrame("lo"u8.ToArray(), WsMsgType.Continuation, fin: true);
        Assert.ThrowsAsync<InvalidOperationException>(async () => await ws.SendFrame("x"u8.ToArray(), WsMsgType.Continuation), "nothing to continue");
        await ws.SendFrame(new byte[] { 7 }, WsMsgType.Binary);
        var got = await frames.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(got.Select(f => (f.Fin, f.Opcode, Encoding.Latin1.GetString(f.Payload), f.Masked)), Is.EqualTo(new[]
        {
            (false, WsMsgType.Text, "hel", true),
            (true, WsMsgType.Ping, "p", true),
            (true, WsMsgType.Continuation, "lo", true),
            (true, WsMsgType.Binary, "\u0007", true),
        }));
    }

    [Test]
    public async Task SendFrame_checks_its_arguments_before_sending()
    {
        await using var server = Raw(async c => await c.EchoCloseAsync());
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        Assert.Throws<ArgumentException>(() => ws.SendFrame(default, WsMsgType.Close));
        Assert.Throws<ArgumentException>(() => ws.SendFrame(default, WsMsgType.Closed));
        Assert.Throws<ArgumentException>(() => ws.SendFrame(default, WsMsgType.Ping, fin: false));
        Assert.Throws<ArgumentException>(() => ws.SendFrame(new byte[126], WsMsgType.Pong));
        Assert.Throws<ArgumentException>(() => ws.SendFrame(new byte[] { 0xC3, 0x28 }, WsMsgType.Text));
    }

    // A lone surrogate has no UTF-8 form: a lenient encoder sends U+FFFD, other text than the caller's, where aiohttp's
    // send_str raises (str.encode). The receiving side already fails such a frame with 1007.
    [Test]
    public async Task Text_with_a_lone_surrogate_is_refused_before_sending()
    {
        var frames = new TaskCompletionSource<List<(bool Fin, WsMsgType Opcode, byte[] Payload, bool Masked)>>();
        await using var server = Raw(async c =>
        {
            var got = new List<(bool, WsMsgType, byte[], bool)>();
            await c.EchoCloseAsync(f => { got.Add(f); return Task.CompletedTask; });
            frames.TrySetResult(got);
        });
        using var session = new ClientSession();
        var ws = await session.WsConnectAsync(WsUrl(server));
        var e = Assert.Throws<ArgumentException>(() => ws.SendStr("ab\uD800c"));
        Assert.That(e!.ParamName, Is.EqualTo("text"));
        Assert.That(e.Message, Does.Contain("index 2"));
        Assert.Throws<ArgumentException>(() => ws.Close(1000, "bye \uDC00"));
        await ws.SendStr("fine \uD83D\uDE00");
        await ws.Close();
        var got = await frames.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(got.Select(f => (f.Opcode, Encoding.UTF8.GetString(f.Payload))).First(), Is.EqualTo((WsMsgType.Text, "fine \uD83D\uDE00")),
            "a pair is sent; nothing of the refused texts went out");
        Assert.That(got.Select(f => f.Opcode), Is.EqualTo(new[] { WsMsgType.Text, WsMsgType.Close }));
    }
}
