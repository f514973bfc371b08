using System.Text;
using NUnit.Framework;
using RxHttp.Fuzz;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace RxHttp.Tests.Content;

/// <summary>
/// A zstd body decodes the same however the network splits it and whatever the read size. The decoder checks a
/// frame's declared content size only when it decodes the frame in one pass, so a frame declaring 88 bytes whose
/// only block is an empty last one failed whole and decoded to an empty body split (Fuzz/Regressions/zstd); each
/// frame's declared size is now checked at the frame's end, without rejecting frames that declare none.
/// </summary>
public class ZstdDecodeTests
{
    private static readonly byte[] DeclaresMoreThanItHolds =
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzz", "Regressions", "zstd", "declared-size-empty-last-block.bin"));

    private static byte[] Frame(string text, bool checksum = false)
    {
        using var compressor = new Compressor(3);
        if (checksum) compressor.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
        return compressor.Wrap(Encoding.UTF8.GetBytes(text)).ToArray();
    }

    // A frame without a declared size, as a streaming compressor writes it.
    private static byte[] StreamedFrame(string text)
    {
        using var ms = new MemoryStream();
        using (var z = new CompressionStream(ms, 3, leaveOpen: true)) z.Write(Encoding.UTF8.GetBytes(text));
        return ms.ToArray();
    }

    private static byte[] Skippable(int length) =>
        [0x50, 0x2A, 0x4D, 0x18, (byte)length, 0, 0, 0, .. new byte[length]];

    private static string Decode(byte[] body, IEnumerable<int> pieces, int readSize = 4096)
    {
        try
        {
            using var decoded = Decompression.Wrap("zstd", new PiecewiseStream(body, pieces))!;
            using var text = new MemoryStream();
            var buffer = new byte[readSize];
            int n;
            while ((n = decoded.ReadAsync(buffer).AsTask().GetAwaiter().GetResult()) > 0) text.Write(buffer, 0, n);
            return "ok:" + Encoding.UTF8.GetString(text.ToArray());
        }
        catch (InvalidDataException)
        {
            return "E:InvalidData";
        }
    }

    private static IEnumerable<string> EveryWay(byte[] body)
    {
        yield return Decode(body, [body.Length]);
        yield return Decode(body, [body.Length], readSize: 7);
        for (var offset = 1; offset < body.Length; offset++) yield return Decode(body, [offset, body.Length - offset]);
        yield return Decode(body, Enumerable.Repeat(1, body.Length), readSize: 3);
    }

    [Test]
    public void A_frame_that_declares_more_than_its_blocks_hold_fails_whole_split_and_in_small_reads()
    {
        Assert.That(EveryWay(DeclaresMoreThanItHolds), Is.All.EqualTo("E:InvalidData"));
    }

    [Test]
    public void After_a_frame_that_declares_no_size_a_frame_that_declares_more_than_it_holds_still_fails_every_way()
    {
        // The second input the zstd target found: an empty frame without a declared size, then the frame above.
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzz", "Regressions", "zstd", "undeclared-frame-then-declared-size-empty-last-block.bin"));
        Assert.That(EveryWay(body), Is.All.EqualTo("E:InvalidData"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void A_frame_that_declares_no_size_cannot_make_up_for_one_that_declares_more_than_it_holds(bool undeclaredFirst)
    {
        // A sum over the body let 100 undeclared bytes cover the 88 the other frame declared and did not hold.
        var undeclared = StreamedFrame(new string('u', 100));
        var body = (undeclaredFirst ? undeclared.Concat(DeclaresMoreThanItHolds) : DeclaresMoreThanItHolds.Concat(undeclared)).ToArray();
        Assert.That(EveryWay(body), Is.All.EqualTo("E:InvalidData"));
    }

    [Test]
    public void Frames_with_and_without_declared_sizes_checksums_and_skippable_frames_decode_every_way()
    {
        var body = Frame("declared, ").Concat(Skippable(5)).Concat(StreamedFrame("streamed, ")).Concat(Frame("checked", checksum: true)).ToArray();
        Assert.That(EveryWay(body), Is.All.EqualTo("ok:declared, streamed, checked"));
    }

    [TestCase(8)]
    [TestCase(9)]
    [TestCase(10)]
    public void Reads_that_a_frame_fills_exactly_still_see_each_frame_end(int readSize)
    {
        // A read filled to its last byte by a frame's last bytes must not hide that frame's end from the size check.
        var body = Frame("12345678").Concat(Frame("abcdefgh")).Concat(StreamedFrame("streamed")).Concat(DeclaresMoreThanItHolds).ToArray();
        Assert.That(Decode(body, [body.Length], readSize), Is.EqualTo("E:InvalidData"));
        var good = Frame("12345678").Concat(Frame("abcdefgh")).Concat(StreamedFrame("streamed")).ToArray();
        Assert.That(Decode(good, [good.Length], readSize), Is.EqualTo("ok:12345678abcdefghstreamed"));
        Assert.That(Decode(good, Enumerable.Repeat(1, good.Length), readSize), Is.EqualTo("ok:12345678abcdefghstreamed"));
    }

    [Test]
    public void A_frame_whose_declared_size_is_two_bytes_long_decodes_every_way()
    {
        // 256-65791 bytes: the two-byte size field is stored minus 256.
        var text = string.Concat(Enumerable.Range(0, 120).Select(i => $"line {i}\n"));
        Assert.That(Encoding.UTF8.GetByteCount(text), Is.InRange(256, 65791));
        var body = Frame(text);
        Assert.That(Decode(body, [body.Length]), Is.EqualTo("ok:" + text));
        Assert.That(Decode(body, Enumerable.Repeat(1, body.Length), readSize: 5), Is.EqualTo("ok:" + text));
    }

    [Test]
    public void A_body_cut_inside_a_frame_fails_at_every_cut()
    {
        var body = Frame("a frame cut short by the connection");
        for (var length = 1; length < body.Length; length++)
            Assert.That(Decode(body[..length], [length]), Is.EqualTo("E:InvalidData"), $"cut to {length} bytes");
    }
}
