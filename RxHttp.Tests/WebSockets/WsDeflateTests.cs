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
        Assert.That(ZlibInflate(Concat(small.WrittenSpan.ToArray(), SyncTail), 9), Is.EqualTo(data), "zlib with a 9-bit window accepts our 9-bit output");
        Assert.That(() => ZlibInflate(Concat(big.WrittenSpan.ToArray(), SyncTail), 9), Throws.Exception.With.Message.Contains("too far back"),
            "the check can fail: 15-bit output is refused by a 9-bit zlib");
    }

    [Test]
    public void Every_smaller_client_window_is_honoured_across_messages_with_context_takeover()
    {
        // Text with long-range repeats, three messages on one stream: only a deflater that never refers further back
        // than 2^bits bytes (within or across messages) decodes with zlib at that window.
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 400).Select(i => $"line {i % 37}: the quick brown fox {i % 11}\n")));
        for (int bits = 9; bits <= 14; bits++)
        {
            using var deflater = new WsDeflater(bits);
            var stream = new List<byte>();
            var plain = new List<byte>();
            for (int m = 0; m < 3; m++)
            {
                var o = new WsByteBuffer();
                deflater.CompressMessage(text, o);
                stream.AddRange(o.WrittenSpan.ToArray());
                stream.AddRange(SyncTail);
                plain.AddRange(text);
            }
            Assert.That(ZlibInflate(stream.ToArray(), bits), Is.EqualTo(plain.ToArray()), $"client_max_window_bits={bits}");
            Assert.That(stream.Count, Is.LessThan(plain.Count / 3), $"still well compressed at {bits} bits");
        }
    }

    [Test]
    public void A_final_block_ending_a_frame_with_its_padding_byte_in_the_next_fragment_then_a_fresh_stream()
    {
        // RFC 7692 §7.2.3.4's "Hello" with BFINAL, its trailing 0x00 sent as a continuation frame; then a message on a
        // fresh stream, which must not be read as part of the finished one.
        var frames = Concat(
            [0x41, 0x07, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            [0x80, 0x01, 0x00],
            [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            [0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
        foreach (var chunk in new[] { 1, 3, int.MaxValue })
            Assert.That(ReadDeflated(frames, chunk).Select(m => m.Text), Is.EqualTo(new[] { "Hello", "Hello", "Hello" }), $"chunk {chunk}");
    }

    [Test]
    public void The_library_declares_no_platform_invoke_and_reaches_no_internal_member_but_the_gated_one()
    {
        // Section 7 of the hardening issue: no private exports of System.IO.Compression.Native, no UnsafeAccessor
        // except InlineCompletions' (behind its runtime-version check).
        var methods = typeof(ClientSession).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic
                                          | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly))
            .ToList();
        Assert.That(methods.Where(m => (m.Attributes & System.Reflection.MethodAttributes.PinvokeImpl) != 0).Select(m => m.DeclaringType + "." + m.Name), Is.Empty);
        var accessors = methods.Where(m => m.GetCustomAttributes(typeof(System.Runtime.CompilerServices.UnsafeAccessorAttribute), false).Length > 0)
            .Select(m => m.DeclaringType!.FullName).Distinct();
        Assert.That(accessors, Is.EqualTo(new[] { "RxHttp.Transport.InlineCompletions" }));
    }

    private const string ZlibScript = """
        import sys, zlib
        d = zlib.decompressobj(-int(sys.argv[1]))
        buf = open(sys.argv[2], 'rb').read()
        out = bytearray()
        while True:
            chunk = d.decompress(buf, 16)
            out += chunk
            buf = d.unconsumed_tail
            if not buf and not chunk:
                break
        open(sys.argv[3], 'wb').write(out)
        """;

    /// <summary>Inflates raw deflate with Python's zlib at the given window: zlib itself refuses a distance too far back.</summary>
    private static byte[] ZlibInflate(byte[] raw, int windowBits)
    {
        var dir = Directory.CreateTempSubdirectory("rxhttp-zlib-");
        try
        {
            var input = Path.Combine(dir.FullName, "in.bin");
            var output = Path.Combine(dir.FullName, "out.bin");
            File.WriteAllBytes(input, raw);
            var psi = new System.Diagnostics.ProcessStartInfo(WsServers.Python)
            {
                // 16 bytes of output per call: zlib copies a match from its output buffer when it can, so only small
                // outputs make every distance come from the window and a too-long one fail.
                ArgumentList = { "-c", ZlibScript, windowBits.ToString(), input, output },
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var p = System.Diagnostics.Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidDataException("zlib refused the data: " + err);
            return File.ReadAllBytes(output);
        }
        finally
        {
            dir.Delete(true);
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
