using System.Buffers;
using System.Text;
using RxHttp.WebSockets;
using NUnit.Framework;
using static RxHttp.Tests.WebSockets.WsTestHelpers;

namespace RxHttp.Tests.WebSockets;

public class WsFrameRoundTripTests
{
    [TestCase(0, 0)]
    [TestCase(125, 125)]
    [TestCase(126, 126)]
    [TestCase(65535, 126)]
    [TestCase(65536, 127)]
    [TestCase(1 << 20, 127)]
    public void Binary_round_trips_through_writer_server_unmask_and_reader(int length, int len7)
    {
        var payload = new byte[length];
        new Random(length).NextBytes(payload);
        using var writer = new WsFrameWriter();
        var raw = new ArrayBufferWriter<byte>();
        writer.WriteMessage(raw, WsMsgType.Binary, payload);
        Assert.That(raw.WrittenSpan[0], Is.EqualTo(0x82), "FIN + binary");
        Assert.That(raw.WrittenSpan[1], Is.EqualTo(0x80 | len7), "mask bit and length form");
        Assert.That(raw.WrittenCount, Is.EqualTo(WsFrameWriter.HeaderSize(length, true) + length));
        if (length >= 16) Assert.That(raw.WrittenSpan[^length..].SequenceEqual(payload), Is.False, "the payload is masked on the wire");

        var frames = Unmask(raw.WrittenSpan);
        foreach (int chunk in new[] { int.MaxValue, 4096, 7 })
        {
            if (chunk == 7 && length > 70000) continue;
            using var reader = new WsFrameReader(maxMsgSize: 0);
            var msgs = Feed(reader, frames, chunk);
            Assert.That(msgs, Has.Count.EqualTo(1));
            Assert.That(msgs[0].Type, Is.EqualTo(WsMsgType.Binary));
            Assert.That(msgs[0].Data.ToArray(), Is.EqualTo(payload));
        }
    }

    [TestCase(0)]
    [TestCase(125)]
    [TestCase(126)]
    [TestCase(65535)]
    [TestCase(65536)]
    [TestCase(1 << 20)]
    public void Text_round_trips_and_fragments_at_the_max_frame_size(int length)
    {
        var text = string.Concat(Enumerable.Range(0, length).Select(i => (char)('a' + i % 26)));
        using var writer = new WsFrameWriter(maxFrameSize: 1000);
        var frames = ClientFrames(writer, WsMsgType.Text, Encoding.UTF8.GetBytes(text));
        using var reader = new WsFrameReader(maxMsgSize: 0);
        var msgs = Feed(reader, frames, 8192);
        Assert.That(msgs.Single().Text, Is.EqualTo(text));
        Assert.That(frames[0] & 0x8F, Is.EqualTo(length <= 1000 ? 0x81 : 0x01), "first frame is TEXT, FIN only when it is the only one");
    }

    [Test]
    public void Control_frames_round_trip_and_are_limited_to_125_bytes()
    {
        using var writer = new WsFrameWriter();
        var frames = Concat(
            ClientFrames(writer, WsMsgType.Ping, new byte[125]),
            ClientFrames(writer, WsMsgType.Pong, "pong"u8),
            ClientFrames(writer, WsMsgType.Close, WsFrameWriter.BuildClosePayload(1001, "bye ünïcode")));
        using var reader = new WsFrameReader();
        var msgs = Feed(reader, frames);
        Assert.That(msgs.Select(m => m.Type), Is.EqualTo(new[] { WsMsgType.Ping, WsMsgType.Pong, WsMsgType.Close }));
        Assert.That(msgs[0].Data.Length, Is.EqualTo(125));
        Assert.That(msgs[1].Data.ToArray(), Is.EqualTo("pong"u8.ToArray()));
        Assert.That(msgs[2].CloseCode, Is.EqualTo(1001));
        Assert.That(msgs[2].Text, Is.EqualTo("bye ünïcode"));

        Assert.Throws<ArgumentException>(() => writer.WriteMessage(new ArrayBufferWriter<byte>(), WsMsgType.Ping, new byte[126]));
        Assert.Throws<ArgumentOutOfRangeException>(() => WsFrameWriter.BuildClosePayload(1000, new string('x', 124)));
        Assert.That(WsFrameWriter.BuildClosePayload(1000, new string('x', 123)), Has.Length.EqualTo(125));
        Assert.Throws<ArgumentOutOfRangeException>(() => WsFrameWriter.BuildClosePayload(1005));
        Assert.Throws<ArgumentException>(() => writer.WriteMessage(new ArrayBufferWriter<byte>(), WsMsgType.Closed, default));
    }

    [Test]
    public void Empty_close_frame_has_no_code()
    {
        using var reader = new WsFrameReader();
        var msg = Feed(reader, Frame(0x88, default)).Single();
        Assert.That(msg.Type, Is.EqualTo(WsMsgType.Close));
        Assert.That(msg.CloseCode, Is.Null);
        Assert.That(msg.Text, Is.Empty);
    }

    [TestCase(1000)]
    [TestCase(1003)]
    [TestCase(1007)]
    [TestCase(1014)]
    [TestCase(3000)]
    [TestCase(4999)]
    public void Valid_close_codes_are_accepted(int code)
    {
        using var reader = new WsFrameReader();
        Assert.That(Feed(reader, Frame(0x88, [(byte)(code >> 8), (byte)code])).Single().CloseCode, Is.EqualTo(code));
    }

    [Test]
    public void Each_frame_gets_a_fresh_mask_key()
    {
        using var writer = new WsFrameWriter();
        var a = new ArrayBufferWriter<byte>();
        writer.WriteMessage(a, WsMsgType.Binary, new byte[8]);
        var b = new ArrayBufferWriter<byte>();
        writer.WriteMessage(b, WsMsgType.Binary, new byte[8]);
        Assert.That(a.WrittenSpan.Slice(2, 4).ToArray(), Is.Not.EqualTo(b.WrittenSpan.Slice(2, 4).ToArray()));
    }

    [Test]
    public async Task SendAsync_writes_all_frames_of_a_message_in_one_write()
    {
        using var writer = new WsFrameWriter(maxFrameSize: 10);
        var stream = new CountingStream();
        await writer.SendTextAsync(stream, new string('z', 35));
        await writer.SendCloseAsync(stream, 1000, "done");
        Assert.That(stream.Writes, Is.EqualTo(2));
        using var reader = new WsFrameReader();
        var msgs = Feed(reader, Unmask(stream.ToArray()));
        Assert.That(msgs[0].Text, Is.EqualTo(new string('z', 35)));
        Assert.That(msgs[1].CloseCode, Is.EqualTo(1000));
        Assert.That(msgs[1].Text, Is.EqualTo("done"));
    }

    [Test]
    public void A_ping_between_fragments_is_delivered_at_once_and_a_split_character_survives_any_chunking()
    {
        const string text = "héllo €𝄞 wörld";
        var utf8 = Encoding.UTF8.GetBytes(text);
        // Split inside é (2 bytes), € (3 bytes) and 𝄞 (4 bytes).
        int e = Encoding.UTF8.GetByteCount("h") + 1;
        int euro = Encoding.UTF8.GetByteCount("héllo ") + 2;
        int clef = Encoding.UTF8.GetByteCount("héllo €") + 3;
        var frames = Concat(
            Fragment(0x01, utf8[..e]),
            Fragment(0x00, utf8[e..euro]),
            Frame(0x89, "ping!"u8),
            Fragment(0x00, utf8[euro..clef]),
            Frame(0x8A, default),
            Frame(0x80, utf8[clef..]));

        void Check(List<WsMessage> msgs, string how)
        {
            Assert.That(msgs.Select(m => m.Type), Is.EqualTo(new[] { WsMsgType.Ping, WsMsgType.Pong, WsMsgType.Text }), how);
            Assert.That(msgs[0].Data.ToArray(), Is.EqualTo("ping!"u8.ToArray()), how);
            Assert.That(msgs[2].Text, Is.EqualTo(text), how);
        }

        using (var reader = new WsFrameReader()) Check(Feed(reader, frames, 1), "one byte at a time");
        for (int split = 0; split <= frames.Length; split++)
        {
            using var reader = new WsFrameReader();
            var loop = new ReceiveLoop(reader);
            loop.Received(frames.AsSpan(0, split));
            loop.Received(frames.AsSpan(split));
            Check(loop.Messages, $"split at {split}");
        }
    }

    internal static byte[] Fragment(byte b0, ReadOnlySpan<byte> payload) => Frame(b0, payload);

    [Test]
    public void WsMessage_helpers()
    {
        var text = WsMessage.CreateText("{\"a\":1}");
        Assert.That(text.Json<Dictionary<string, int>>()!["a"], Is.EqualTo(1));
        Assert.That(WsMessage.CreateBinary("[1,2]"u8.ToArray()).Json<int[]>(), Is.EqualTo(new[] { 1, 2 }));
        Assert.Throws<InvalidOperationException>(() => WsMessage.CreatePing(default).Json<int>());
        Assert.That(text.ToString(), Is.EqualTo("WsMessage(Text, \"{\"a\":1}\")"));
        Assert.That(WsMessage.CreateClose(1000, "bye").ToString(), Is.EqualTo("WsMessage(Close, 1000, \"bye\")"));
        Assert.That(WsMessage.CreateBinary(new byte[3]).ToString(), Is.EqualTo("WsMessage(Binary, 3 bytes)"));
        Assert.That(WsMessage.ClosedMessage.Type, Is.EqualTo(WsMsgType.Closed));
        Assert.That((int)WsMsgType.Error, Is.EqualTo(0x102));
        Assert.That((ushort)WsCloseCode.BadGateway, Is.EqualTo(1014));
    }

    private sealed class CountingStream : MemoryStream
    {
        public int Writes;
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            return base.WriteAsync(buffer, cancellationToken);
        }
    }
}
