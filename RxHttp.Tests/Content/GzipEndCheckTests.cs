using System.IO.Compression;
using System.Text;
using NUnit.Framework;
using RxHttp.Fuzz;

namespace RxHttp.Tests.Content;

/// <summary>
/// A gzip body that ends inside a member (its header, its deflate data or its 8-byte trailer) is an error, where
/// GZipStream returned 0 and the body read as a shorter, complete one; a body that ends at a member's end, an empty
/// body and trailing bytes that are no member still decode, whole, split anywhere and one byte at a time.
/// </summary>
public class GzipEndCheckTests
{
    private const string Truncated = "E:InvalidDataException:The body ends inside its compressed stream (truncated).";

    private static byte[] Gzip(string text)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Optimal)) z.Write(Encoding.UTF8.GetBytes(text));
        return ms.ToArray();
    }

    private static string Decode(byte[] body, IEnumerable<int> pieces, int readSize = 16 * 1024)
    {
        try
        {
            using var decoded = Decompression.Wrap("gzip", new PiecewiseStream(body, pieces))!;
            using var text = new MemoryStream();
            decoded.CopyTo(text, readSize);
            return "ok:" + Encoding.UTF8.GetString(text.ToArray());
        }
        catch (InvalidDataException e)
        {
            return "E:" + e.GetType().Name + ":" + e.Message;
        }
    }

    private static string Whole(byte[] body) => Decode(body, [body.Length]);

    private static string OneByteAtATime(byte[] body) => Decode(body, Enumerable.Repeat(1, body.Length), readSize: 3);

    [Test]
    public void A_member_cut_anywhere_is_truncated_whole_and_byte_by_byte()
    {
        var text = string.Concat(Enumerable.Repeat("a gzip member cut short ", 40));
        var body = Gzip(text);
        Assert.That(Whole(body), Is.EqualTo("ok:" + text));
        Assert.That(OneByteAtATime(body), Is.EqualTo("ok:" + text));
        for (var length = 1; length < body.Length; length++)
        {
            Assert.That(Whole(body[..length]), Is.EqualTo(Truncated), $"cut to {length} of {body.Length}");
            Assert.That(OneByteAtATime(body[..length]), Is.EqualTo(Truncated), $"cut to {length}, byte by byte");
        }
    }

    [Test]
    public void A_second_member_cut_anywhere_is_truncated()
    {
        var first = Gzip("one ");
        var body = first.Concat(Gzip("two")).ToArray();
        Assert.That(Whole(body), Is.EqualTo("ok:one two"));
        // From its second byte: a lone 0x1F after a member is GZipStream's start of one, as for Python's gzip module.
        for (var length = first.Length + 1; length < body.Length; length++)
            Assert.That(Whole(body[..length]), Is.EqualTo(Truncated), $"cut to {length} of {body.Length}");
    }

    // A zero-byte read (a reader waiting for data without a buffer) may be the one that meets the body's end and
    // hands out the probe: the next real read still tells a finished member from a cut one.
    [Test]
    public async Task A_zero_byte_read_at_the_end_does_not_change_the_outcome()
    {
        var body = Gzip("zero-byte reads");
        foreach (var (bytes, truncated) in new[] { (body, false), (body[..^2], true) })
        {
            using var decoded = Decompression.Wrap("gzip", new PiecewiseStream(bytes, [bytes.Length]))!;
            var buffer = new byte[1024];
            var got = 0;
            Exception? error = null;
            try
            {
                while (true)
                {
                    Assert.That(await decoded.ReadAsync(Memory<byte>.Empty), Is.Zero);
                    var n = await decoded.ReadAsync(buffer.AsMemory(got, 1));
                    if (n == 0) break;
                    got += n;
                }
            }
            catch (InvalidDataException e)
            {
                error = e;
            }
            Assert.That(error is not null, Is.EqualTo(truncated), truncated ? "cut" : "whole");
            if (!truncated) Assert.That(Encoding.UTF8.GetString(buffer, 0, got), Is.EqualTo("zero-byte reads"));
        }
    }

    [Test]
    public void A_finished_member_an_empty_body_and_trailing_bytes_that_are_no_member_still_decode()
    {
        Assert.That(Whole([]), Is.EqualTo("ok:"));
        Assert.That(Whole(Gzip("")), Is.EqualTo("ok:"));
        var member = Gzip("kept");
        foreach (var tail in new byte[][] { [0x00], [0x1F, 0x00], [0x0A, 0x0D, 0x0A], [0x1F, 0x3B, 0x1F] })
        {
            var body = member.Concat(tail).ToArray();
            Assert.That(Whole(body), Is.EqualTo("ok:kept"), Convert.ToHexString(tail));
            Assert.That(OneByteAtATime(body), Is.EqualTo("ok:kept"), Convert.ToHexString(tail) + ", byte by byte");
        }
    }
}
