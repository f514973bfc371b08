using System.Reactive;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;
using RxHttp.WebSockets;
using static RxHttp.Tests.WebSockets.WsServers;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// RFC 6455 §5-7 violations (the Autobahn client cases) sent by a raw frame server, each checked on the wire: the
/// client answers with a masked CLOSE carrying the right code, and its message observable ends in a typed error
/// after the messages that were valid, never in a hang or a half-delivered message.
/// </summary>
[TestFixture]
public class WsProtocolViolationRawTests
{
    private static string WsUrl(RawServer server, string path = "/chat") => $"ws://127.0.0.1:{server.Port}{path}";

    private static byte[] Raw(params byte[] bytes) => bytes;

    private static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Fragment(WsMsgType opcode, byte[] payload, bool fin) => Frame(opcode, payload, fin);

    private static readonly object[] Violations =
    {
        // 1007: invalid UTF-8 wherever it hides.
        new object[] { "invalid UTF-8 split across fragments", Cat(Fragment(WsMsgType.Text, [0x61, 0xE2, 0x82], false), Fragment(WsMsgType.Continuation, [0x28], true)), 1007 },
        new object[] { "UTF-8 truncated at the end of a message", Cat(Fragment(WsMsgType.Text, [0x61, 0xE2], false), Fragment(WsMsgType.Continuation, [0x82], true)), 1007 },
        new object[] { "UTF-8 truncated in a single frame", Frame(WsMsgType.Text, [0x61, 0xF0, 0x9F, 0x98]), 1007 },
        new object[] { "UTF-16 surrogate in text", Frame(WsMsgType.Text, [0xED, 0xA0, 0x80]), 1007 },
        new object[] { "code point above U+10FFFF", Frame(WsMsgType.Text, [0xF4, 0x90, 0x80, 0x80]), 1007 },
        new object[] { "invalid UTF-8 in a close reason", Frame(WsMsgType.Close, [0x03, 0xE8, 0x61, 0xFF]), 1007 },
        new object[] { "UTF-8 cut in a close reason", Frame(WsMsgType.Close, [0x03, 0xE8, 0xE2, 0x82]), 1007 },
        // 1002: framing.
        new object[] { "new text frame inside a fragmented message", Cat(Fragment(WsMsgType.Text, "a"u8.ToArray(), false), Frame(WsMsgType.Text, "b"u8)), 1002 },
        new object[] { "new binary frame inside a fragmented message", Cat(Fragment(WsMsgType.Binary, [1], false), Frame(WsMsgType.Binary, [2])), 1002 },
        new object[] { "new fragment start inside a fragmented message", Cat(Fragment(WsMsgType.Text, "a"u8.ToArray(), false), Fragment(WsMsgType.Text, "b"u8.ToArray(), false)), 1002 },
        new object[] { "RSV2 set", Raw(0xA1, 0x01, 0x41), 1002 },
        new object[] { "RSV3 set", Raw(0x91, 0x01, 0x41), 1002 },
        new object[] { "RSV2 and RSV3 on a ping", Raw(0xB9, 0x00), 1002 },
        new object[] { "RSV3 on a continuation", Cat(Fragment(WsMsgType.Text, "a"u8.ToArray(), false), Raw(0x90, 0x01, 0x62)), 1002 },
        new object[] { "reserved control opcode 0xB", Raw(0x8B, 0x00), 1002 },
        new object[] { "reserved control opcode 0xF with payload", Raw(0x8F, 0x01, 0x41), 1002 },
        new object[] { "reserved data opcode 0x7", Raw(0x87, 0x00), 1002 },
        new object[] { "reserved control opcode inside a fragmented message", Cat(Fragment(WsMsgType.Text, "a"u8.ToArray(), false), Raw(0x8C, 0x00)), 1002 },
    };

    [TestCaseSource(nameof(Violations))]
    public async Task Each_violation_fails_the_connection_with_its_code(string what, byte[] frames, int code)
    {
        var (notes, sent) = await RunAsync(frames);
        AssertFailedWith(notes, sent, code, what);
    }

    [Test]
    public async Task Every_close_code_rfc_6455_reserves_is_1002()
    {
        // §7.4: 1004-1006 and 1015 must not be sent; 1016-2999 are reserved for future RFCs; below 1000 and from
        // 5000 are not close codes at all. One server, one connection per code, a few at a time.
        var codes = new[] { 0, 1, 999, 1004, 1005, 1006, 1015, 5000, 65535 }.Concat(Enumerable.Range(1016, 2999 - 1016 + 1)).ToArray();
        // Built by hand: the library's own writer refuses to encode these codes.
        await using var server = ServerSending(path =>
        {
            int code = int.Parse(path.TrimStart('/'));
            return Frame(WsMsgType.Close, [(byte)(code >> 8), (byte)code]);
        });
        using var session = new ClientSession();
        using var gate = new SemaphoreSlim(16);
        var wrong = new List<string>();
        await Task.WhenAll(codes.Select(async c =>
        {
            await gate.WaitAsync();
            try
            {
                await using var ws = await session.WsConnectAsync(WsUrl(server, "/" + c));
                var notes = await ws.Messages.Materialize().ToList().Timeout(TimeSpan.FromSeconds(20));
                if (notes[^1].Kind != NotificationKind.OnError || notes[^1].Exception is not WebSocketProtocolException { CloseCode: WsCloseCode.ProtocolError } || ws.CloseCode != 1002)
                    lock (wrong) wrong.Add($"{c}: {notes[^1].Kind} {notes[^1].Exception?.GetType().Name} close {ws.CloseCode}");
            }
            finally
            {
                gate.Release();
            }
        }));
        Assert.That(wrong, Is.Empty);
        Assert.That(server.ConnectionCount, Is.EqualTo(codes.Length));
    }

    [TestCase(1000, "")]
    [TestCase(1001, "going away")]
    [TestCase(1002, "")]
    [TestCase(1003, "")]
    [TestCase(1007, "")]
    [TestCase(1011, "oops")]
    [TestCase(1014, "")]
    [TestCase(3000, "")]
    [TestCase(4999, "ünïcödé")]
    public async Task A_valid_close_is_echoed_with_its_code_and_completes_the_messages(int code, string reason)
    {
        var (notes, sent) = await RunAsync(CloseFrame(code, reason));
        Assert.That(notes.Select(n => n.Kind), Is.EqualTo(new[] { NotificationKind.OnNext, NotificationKind.OnNext, NotificationKind.OnCompleted }));
        Assert.That(notes[0].Value!.Text, Is.EqualTo("before"));
        Assert.That((notes[1].Value!.Type, notes[1].Value!.CloseCode, notes[1].Value!.Text), Is.EqualTo((WsMsgType.Close, (int?)code, reason)));
        var close = sent.Single(f => f.Opcode == WsMsgType.Close);
        Assert.That(close.Masked, Is.True);
        Assert.That((close.Payload[0] << 8) | close.Payload[1], Is.EqualTo(code), "the client echoes the server's code");
    }

    [Test]
    public async Task Pings_get_pongs_with_the_same_payload_also_between_fragments()
    {
        var max = Enumerable.Range(0, 125).Select(i => (byte)i).ToArray();
        var (notes, sent) = await RunAsync(Cat(
            Frame(WsMsgType.Ping, default),
            Fragment(WsMsgType.Text, "frag"u8.ToArray(), false),
            Frame(WsMsgType.Ping, max),
            Fragment(WsMsgType.Continuation, "ment"u8.ToArray(), true),
            Frame(WsMsgType.Ping, [0xFF, 0x00, 0x80]),
            CloseFrame(1000)));
        Assert.That(notes.Where(n => n.Kind == NotificationKind.OnNext).Select(n => n.Value!.Type), Is.EqualTo(new[] { WsMsgType.Text, WsMsgType.Text, WsMsgType.Close }));
        Assert.That(notes[1].Value!.Text, Is.EqualTo("fragment"), "the ping between fragments does not disturb the message");
        var pongs = sent.Where(f => f.Opcode == WsMsgType.Pong).ToList();
        Assert.That(pongs.Select(p => p.Payload), Is.EqualTo(new[] { Array.Empty<byte>(), max, new byte[] { 0xFF, 0x00, 0x80 } }));
        Assert.That(pongs.All(p => p.Masked && p.Fin), Is.True);
    }

    [Test]
    public async Task Violations_dribbled_one_byte_per_send_fail_the_same_way()
    {
        foreach (var v in Violations.Cast<object[]>())
        {
            var (notes, sent) = await RunAsync((byte[])v[1], dribble: true);
            AssertFailedWith(notes, sent, (int)v[2], (string)v[0] + " (dribbled)");
        }
    }

    // ---- plumbing ----

    private static void AssertFailedWith(List<Notification<WsMessage>> notes, List<(bool Fin, WsMsgType Opcode, byte[] Payload, bool Masked)> sent, int code, string what)
    {
        // "before", then the error message, then OnError with the same typed exception: nothing partial in between.
        Assert.That(notes.Select(n => n.Kind), Is.EqualTo(new[] { NotificationKind.OnNext, NotificationKind.OnNext, NotificationKind.OnError }), what);
        Assert.That(notes[0].Value!.Text, Is.EqualTo("before"), what);
        Assert.That(notes[1].Value!.Type, Is.EqualTo(WsMsgType.Error), what);
        var error = notes[2].Exception as WebSocketProtocolException;
        Assert.That(error, Is.Not.Null, what);
        Assert.That((int)error!.CloseCode, Is.EqualTo(code), what);
        var close = sent.Where(f => f.Opcode == WsMsgType.Close).ToList();
        Assert.That(close, Has.Count.EqualTo(1), what);
        Assert.That(close[0].Masked, Is.True, what);
        Assert.That((close[0].Payload[0] << 8) | close[0].Payload[1], Is.EqualTo(code), what + ": the CLOSE on the wire carries the code");
    }

    /// <summary>Sends "before" then <paramref name="frames"/>, echoes the client's CLOSE, and returns what each side saw.</summary>
    private static async Task<(List<Notification<WsMessage>> Notes, List<(bool Fin, WsMsgType Opcode, byte[] Payload, bool Masked)> Sent)> RunAsync(byte[] frames, bool dribble = false)
    {
        var sent = new TaskCompletionSource<List<(bool, WsMsgType, byte[], bool)>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = WsServers.Raw(async c =>
        {
            await c.SendAsync(Text("before"));
            try
            {
                if (dribble)
                    foreach (var b in frames) await c.SendAsync([b]);
                else
                    await c.SendAsync(frames);
            }
            catch (System.Net.Sockets.SocketException)
            {
                // The client may fail the connection before the last byte goes out.
            }
            var got = new List<(bool, WsMsgType, byte[], bool)>();
            try
            {
                while (await c.ReadFrameAsync() is { } f)
                {
                    got.Add(f);
                    if (f.Opcode == WsMsgType.Close)
                    {
                        await c.SendAsync(Frame(WsMsgType.Close, f.Payload));
                        got.AddRange(await c.ReadUntilEofAsync());
                        break;
                    }
                }
            }
            catch (System.Net.Sockets.SocketException) { }
            sent.TrySetResult(got);
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        var notes = (await ws.Messages.Materialize().ToList().Timeout(TimeSpan.FromSeconds(20))).ToList();
        await ws.DisposeAsync();
        return (notes, await sent.Task.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>A server that sends, on each connection, the frame chosen by the request path.</summary>
    private static RawServer ServerSending(Func<string, byte[]> frameFor) => WsServers.Raw(async c =>
    {
        var path = c.Request.Split(' ')[1];
        await c.SendAsync(frameFor(path));
        await c.ReadUntilEofAsync();
    });
}
