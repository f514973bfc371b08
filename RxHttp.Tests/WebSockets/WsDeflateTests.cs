using System.IO.Compression;
using System.Text;
using RxHttp.WebSockets;
using NUnit.Framework;
using static RxHttp.Tests.WebSockets.WsTestHelpers;

namespace RxHttp.Tests.WebSockets;

public class WsDeflateTests
{
    private static readonly byte[] SyncTail = [0x00, 0x00, 0xFF, 0xFF];

    private static List<WsMessage> ReadDeflated(byte[] frames, int chunk = int.MaxValue, bool serverNoContext = false)
    {
        using var reader = new WsFrameReader(inflater: new WsInflater(serverNoContext));
        return Feed(reader, frames, chunk);
    }

    [Test]
    public void Rfc7692_examples_decode()
    {
        // 7.2.3.1: one compressed frame, and the same message fragmented.
        Assert.That(ReadDeflated([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).Single().Text, Is.EqualTo("Hello"));
        Assert.That(ReadDeflated([0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00], chunk: 1).Single().Text, Is.EqualTo("Hello"));
        // 7.2.3.2: the second message refers back into the first one's window.
        var shared = ReadDeflated([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
        Assert.That(shared.Select(m => m.Text), Is.EqualTo(new[] { "Hello", "Hello" }));
        // 7.2.3.3: a stored (uncompressed) block.
        Assert.That(ReadDeflated([0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]).Single().Text, Is.EqualTo("Hello"));
        // 7.2.3.4: a final (BFINAL) block, then another message on a fresh stream.
        var final = ReadDeflated([0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        Assert.That(final.Select(m => m.Text), Is.EqualTo(new[] { "Hello", "Hello" }));
        // 7.2.3.6: an empty message.
        Assert.That(ReadDeflated([0xc1, 0x01, 0x00]).Single().Text, Is.EqualTo(""));
    }

    [Test]
    public void Writer_produces_the_rfc7692_bytes_for_Hello()
    {
        using var writer = new WsFrameWriter(new WsDeflater(), mask: false);
        var frames = ClientFrames(writer, WsMsgType.Text, "Hello"u8);
        Assert.That(frames, Is.EqualTo(new byte[] { 0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00 }));
        var second = ClientFrames(writer, WsMsgType.Text, "Hello"u8);
        Assert.That(second[0], Is.EqualTo(0xc1));
        Assert.That(second.Length, Is.LessThan(frames.Length), "context takeover makes the repeat cheaper");
    }

    private static byte[][] Messages() =>
    [
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 50))),
        Encoding.UTF8.GetBytes("the quick brown fox jumps over the lazy dog. again"),
        RandomBytes(70_000, 3),
        [],
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("ünïcödé €𝄞 ", 3000))),
    ];

    private static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Round_trip_and_DeflateStream_interop(bool noContextTakeover)
    {
        using var writer = new WsFrameWriter(new WsDeflater(15, noContextTakeover), maxFrameSize: 4000);
        var messages = Messages();
        var allFrames = new List<byte>();
        var payloads = new List<byte[]>();
        foreach (var (m, i) in messages.Select((m, i) => (m, i)))
        {
            var type = i == 2 ? WsMsgType.Binary : WsMsgType.Text;
            var frames = ClientFrames(writer, type, m);
            Assert.That(frames[0] & 0x40, Is.EqualTo(0x40), "RSV1 on the first frame");
            allFrames.AddRange(frames);
            payloads.Add(PayloadOf(frames));
        }

        var read = ReadDeflated(allFrames.ToArray(), 1500);
        Assert.That(read, Has.Count.EqualTo(messages.Length));
        for (int i = 0; i < messages.Length; i++)
        {
            var got = read[i].Type == WsMsgType.Text ? Encoding.UTF8.GetBytes(read[i].Text!) : read[i].Data.ToArray();
            Assert.That(got, Is.EqualTo(messages[i]), $"message {i}");
        }

        // Interop: System.IO.Compression must decode our payloads. With context takeover the messages form
        // one deflate stream, so they decode only in sequence; without it each decodes alone.
        if (noContextTakeover)
        {
            for (int i = 0; i < messages.Length; i++)
                Assert.That(Inflate(Concat(payloads[i], SyncTail)), Is.EqualTo(messages[i]), $"message {i} alone");
        }
        else
        {
            var stream = payloads.SelectMany(p => p.Concat(SyncTail)).ToArray();
            Assert.That(Inflate(stream), Is.EqualTo(messages.SelectMany(m => m).ToArray()));
            Assert.That(payloads[1].Length, Is.LessThan(20), "the second message reuses the first one's window");
        }
    }

    [Test]
    public void Reader_decodes_DeflateStream_sync_flushed_messages()
    {
        var ms = new MemoryStream();
        using var deflate = new DeflateStream(ms, CompressionLevel.Optimal, leaveOpen: true);
        var frames = new List<byte>();
        var messages = Messages().Where(m => m.Length > 0).ToArray();
        foreach (var m in messages)
        {
            long start = ms.Length;
            deflate.Write(m);
            deflate.Flush(); // Z_SYNC_FLUSH since .NET 6
            var payload = ms.ToArray()[(int)start..];
            Assert.That(payload[^4..], Is.EqualTo(SyncTail));
            frames.AddRange(Frame(0xC2, payload[..^4]));
        }
        var read = ReadDeflated(frames.ToArray(), 999);
        Assert.That(read.Select(r => r.Data.ToArray()), Is.EqualTo(messages));
    }

    [Test]
    public void Small_client_window_is_really_used()
    {
        // Repeats 2 KiB apart: a 15-bit window finds them, a 9-bit (512 byte) one must not.
        var block = RandomBytes(2048, 9);
        var data = Concat(block, block, block, block);
        var small = new WsByteBuffer();
        using (var d9 = new WsDeflater(9)) d9.CompressMessage(data, small);
        var big = new WsByteBuffer();
        using (var d15 = new WsDeflater(15)) d15.CompressMessage(data, big);
        Assert.That(big.Length, Is.LessThan(3000));
        Assert.That(small.Length, Is.GreaterThan(7000));
        using var strict = new StrictInflater(9);
        Assert.That(strict.InflateAll(Concat(small.WrittenSpan.ToArray(), SyncTail)), Is.EqualTo(data), "a 9-bit inflater accepts our 9-bit output");
    }

    private sealed class StrictInflater : ZlibStreamBase
    {
        private readonly int _bits;
        public StrictInflater(int bits) { _bits = bits; Start(); }
        protected override int Init() => ZlibNative.InflateInit2(ref Z, -_bits);
        protected override int End() => ZlibNative.InflateEnd(ref Z);
        protected override int Step(int flush) => ZlibNative.Inflate(ref Z, flush);
        public byte[] InflateAll(byte[] input)
        {
            var o = new WsByteBuffer();
            Run(input, o, ZlibNative.Z_SYNC_FLUSH, 0);
            return o.WrittenSpan.ToArray();
        }
    }

    private static byte[] Inflate(byte[] raw)
    {
        using var s = new DeflateStream(new MemoryStream(raw), CompressionMode.Decompress);
        var o = new MemoryStream();
        var buf = new byte[4096];
        try
        {
            int n;
            while ((n = s.Read(buf)) > 0) o.Write(buf, 0, n);
        }
        catch (InvalidDataException)
        {
            // Older runtimes complain about the missing final block; the data before it is what counts.
        }
        return o.ToArray();
    }

    /// <summary>Concatenated payloads of unmasked frames.</summary>
    private static byte[] PayloadOf(byte[] frames)
    {
        var result = new List<byte>();
        int pos = 0;
        while (pos < frames.Length)
        {
            int len7 = frames[pos + 1] & 0x7F;
            int h = 2;
            long len = len7;
            if (len7 == 126) { len = (frames[pos + 2] << 8) | frames[pos + 3]; h = 4; }
            else if (len7 == 127) { len = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(frames.AsSpan(pos + 2)); h = 10; }
            result.AddRange(frames.AsSpan(pos + h, (int)len).ToArray());
            pos += h + (int)len;
        }
        return result.ToArray();
    }
}
