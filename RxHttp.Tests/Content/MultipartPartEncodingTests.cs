using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;

namespace RxHttp.Tests.Content;

/// <summary>
/// A part whose headers declare a Content-Transfer-Encoding or Content-Encoding goes out encoded so (aiohttp's
/// writer); <see cref="AiohttpInteropTests"/> has aiohttp's reader decode them.
/// </summary>
[TestFixture]
public class MultipartPartEncodingTests
{
    private static Dictionary<string, string> Cte(string value) => new() { ["Content-Transfer-Encoding"] = value };

    // Written in pieces of every size from 1 to 7 bytes, so the encoders' carries across writes are exercised.
    private sealed class Dribble(byte[] data) : Payload
    {
        public override long? Length => data.Length;
        public override bool IsReplayable => true;

        public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
        {
            for (int i = 0, n = 1; i < data.Length; i += n, n = n % 7 + 1)
                await writer.WriteAsync(data.AsMemory(i, Math.Min(n, data.Length - i)), cancellationToken);
        }
    }

    private static async Task<ReceivedPart> RoundTrip(Payload payload, Dictionary<string, string> headers)
    {
        var mp = new MultipartWriter("mixed", "rx-enc");
        mp.Append(payload, headers);
        Assert.That(mp.Length, Is.Null, "an encoded size is not known ahead");
        return MultipartReader.Parse(await CollectingWriter.WriteAsync(mp), mp.ContentType!).Single();
    }

    private static readonly byte[] Tricky = Encoding.UTF8.GetBytes(
        "--rx-enc at the start\r\n--rx-enc\r\n" + new string('-', 200) + "=\t \r\nü€ trailing space \t");

    [TestCase("base64")]
    [TestCase("quoted-printable")]
    [TestCase("BASE64")]
    public async Task Declared_transfer_encodings_are_applied_and_undone_exactly(string coding)
    {
        foreach (var data in new[] { Tricky, RandomNumberGenerator.GetBytes(1000), Array.Empty<byte>(), "a"u8.ToArray(), "ab"u8.ToArray() })
        {
            var part = await RoundTrip(new Dribble(data), Cte(coding));
            if (data == Tricky) Assert.That(part.Content, Is.Not.EqualTo(data), "the content on the wire is encoded");
            Assert.That(part.Decode(), Is.EqualTo(data));
        }
    }

    [Test]
    public async Task Quoted_printable_lines_stay_within_76_characters_and_never_start_with_a_dash()
    {
        var part = await RoundTrip(new BytesPayload(Tricky), Cte("quoted-printable"));
        var lines = Encoding.ASCII.GetString(part.Content).Split("\r\n");
        Assert.That(lines.Max(l => l.Length), Is.LessThanOrEqualTo(76));
        Assert.That(lines.Where(l => l.StartsWith('-')), Is.Empty);
        Assert.That(lines[^1], Does.Not.EndWith(" ").And.Not.EndWith("\t"), "trailing white space is encoded");
        Assert.That(part.Text(), Is.EqualTo(Encoding.UTF8.GetString(Tricky)));
    }

    [Test]
    public async Task Declared_content_encoding_is_compressed_then_transfer_encoded()
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("compress me ", 1000)));
        var part = await RoundTrip(new BytesPayload(data), new() { ["Content-Encoding"] = "gzip", ["Content-Transfer-Encoding"] = "base64" });
        Assert.That(part.Content.Length, Is.LessThan(data.Length / 4));
        Assert.That(part.Decode(), Is.EqualTo(data));
    }

    [TestCase("gzip")]
    [TestCase("deflate")]
    public async Task An_empty_part_compresses_to_a_stream_a_decoder_accepts(string coding)
    {
        var part = await RoundTrip(new BytesPayload(Array.Empty<byte>()), new() { ["Content-Encoding"] = coding });
        Assert.That(part.Content, Is.Not.Empty);
        Assert.That(part.Decode(), Is.Empty);
    }

    [Test]
    public async Task Identity_codings_leave_the_part_as_it_is_with_its_length()
    {
        var mp = new MultipartWriter("mixed", "b");
        mp.Append("x", Cte("binary"));
        mp.Append("y", new Dictionary<string, string> { ["Content-Encoding"] = "identity" });
        var bytes = await CollectingWriter.WriteAsync(mp);
        Assert.That(mp.Length, Is.EqualTo(bytes.Length));
        Assert.That(MultipartReader.Parse(bytes, mp.ContentType!).Select(p => Encoding.ASCII.GetString(p.Content)), Is.EqualTo(new[] { "x", "y" }));
    }

    [Test]
    public void Unknown_codings_are_refused_when_the_part_is_added()
    {
        var mp = new MultipartWriter();
        Assert.Throws<ArgumentException>(() => mp.Append("x", Cte("uuencode")));
        Assert.Throws<ArgumentException>(() => mp.Append("x", new Dictionary<string, string> { ["Content-Encoding"] = "br" }));
        Assert.That(mp.Parts, Is.Empty);
    }
}
