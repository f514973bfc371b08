using System.IO.Compression;
using System.Text;
using NUnit.Framework;
using RxHttp.Fuzz;

namespace RxHttp.Tests.Content;

/// <summary>
/// A gzip body decodes the same however the network splits it: GZipStream, left a lone 0x1F after a member, took
/// it for the start of another member (and failed on the next byte), where the whole body showed bytes that are
/// not a member (and were ignored). The fuzzer's whole-versus-split check found it (Fuzz/Regressions/gzip).
/// </summary>
public class GzipMemberFeedTests
{
    private static byte[] Gzip(string text)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Optimal)) z.Write(Encoding.UTF8.GetBytes(text));
        return ms.ToArray();
    }

    // What decoding gives: the text, or the exception's type (the response turns it into ClientPayloadError).
    private static string Decode(byte[] body, IEnumerable<int> pieces)
    {
        try
        {
            using var decoded = Decompression.Wrap("gzip", new PiecewiseStream(body, pieces))!;
            using var text = new MemoryStream();
            decoded.CopyTo(text, 5);
            return "ok:" + Encoding.UTF8.GetString(text.ToArray());
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return "E:" + e.GetType().Name;
        }
    }

    private static string Whole(byte[] body) => Decode(body, [body.Length]);

    private static string SplitAt(byte[] body, int offset) => Decode(body, [offset, body.Length - offset]);

    [Test]
    public void A_member_followed_by_bytes_that_begin_with_0x1F_but_are_no_member_decodes_alike_at_every_split()
    {
        // The fuzzer's input: "one", then 0x1F 0x3B and more (a damaged second header).
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzz", "Regressions", "gzip", "trailing-lone-magic-byte-at-split.bin"));
        Assert.That(Whole(body), Is.EqualTo("ok:one"));
        for (var offset = 1; offset < body.Length; offset++)
            Assert.That(SplitAt(body, offset), Is.EqualTo("ok:one"), $"split at {offset}");
    }

    [Test]
    public void Trailing_bytes_after_a_member_decode_alike_whole_split_and_one_byte_at_a_time()
    {
        var member = Gzip("first member");
        foreach (var tail in new byte[][] { [0x1F], [0x1F, 0x00], [0x1F, 0x1F, 0x1F], [0x00, 0x1F], [0x1F, 0x3B, 0x1F] })
        {
            var body = member.Concat(tail).ToArray();
            var whole = Whole(body);
            for (var offset = 1; offset < body.Length; offset++)
                Assert.That(SplitAt(body, offset), Is.EqualTo(whole), $"tail {Convert.ToHexString(tail)}, split at {offset}");
            Assert.That(Decode(body, Enumerable.Repeat(1, body.Length)), Is.EqualTo(whole), $"tail {Convert.ToHexString(tail)}, byte by byte");
        }
    }

    [Test]
    public void Concatenated_members_still_decode_at_every_split()
    {
        var body = Gzip("one ").Concat(Gzip("two ")).Concat(Gzip("three")).ToArray();
        Assert.That(Whole(body), Is.EqualTo("ok:one two three"));
        for (var offset = 1; offset < body.Length; offset++)
            Assert.That(SplitAt(body, offset), Is.EqualTo("ok:one two three"), $"split at {offset}");
        Assert.That(Decode(body, Enumerable.Repeat(1, body.Length)), Is.EqualTo("ok:one two three"));
    }

    [Test]
    public void A_held_back_0x1F_is_never_lost_in_a_body_full_of_them()
    {
        // Incompressible bytes, many of them 0x1F, so that many reads end with one, in pieces of every size.
        var random = new Random(7);
        var text = new string(Enumerable.Range(0, 20_000).Select(_ => random.Next(4) == 0 ? '\u001F' : (char)random.Next(32, 127)).ToArray());
        var body = Gzip(text);
        Assert.That(body.Count(b => b == 0x1F), Is.GreaterThan(20), "the compressed body should hold many 0x1F bytes");
        var sizes = Enumerable.Range(0, body.Length).Select(_ => random.Next(1, 9));
        Assert.That(Decode(body, sizes), Is.EqualTo("ok:" + text));
    }
}
