using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// A byte order mark leading a body names its encoding and is not text (the WHATWG Encoding Standard's decode, and
/// HttpClient's ReadAsStringAsync): Text(), Json&lt;T&gt;() and Lines() leave it out, over real sockets, whole and
/// dribbled one byte at a time.
/// </summary>
[TestFixture]
public class ByteOrderMarkTests
{
    private static readonly byte[] Utf8Mark = [0xEF, 0xBB, 0xBF];

    private static byte[] Marked(Encoding encoding, string text) => [.. encoding.GetPreamble(), .. encoding.GetBytes(text)];

    private static RawServer Serve(string contentType, byte[] body, bool chunked = false, bool dribble = false) => RawServer.Body(contentType, body, chunked, dribble);

    [TestCase("text/plain", false, false)]
    [TestCase("text/plain", true, false)]
    [TestCase("text/plain; charset=utf-8", false, true)]
    [TestCase("text/plain; charset=iso-8859-1", true, true)] // the mark wins over a charset that contradicts it
    public async Task Text_of_a_UTF8_body_with_a_mark_leaves_the_mark_out(string contentType, bool chunked, bool dribble)
    {
        await using var server = Serve(contentType, Marked(Encoding.UTF8, "café\n"), chunked, dribble);
        using var session = new ClientSession();
        var (text, encoding) = await session.Get(server.Url()).SelectMany(async r => (await r.Text(), r.GetEncoding()));
        Assert.That(text, Is.EqualTo("café\n"));
        Assert.That(encoding.WebName, Is.EqualTo("utf-8"));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_large_marked_body_read_as_text_gives_its_bytes_back_to_Read(bool chunked)
    {
        // Over 64 KiB: Text() decodes such bodies from a pooled buffer and caches the string, which re-encodes to the
        // bytes only when nothing was left out.
        var text = string.Concat(Enumerable.Repeat("0123456789abcdé\n", 10_000));
        var body = Marked(Encoding.UTF8, text);
        await using var server = Serve("text/plain", body, chunked);
        using var session = new ClientSession();
        var response = await session.Get(server.Url());
        Assert.That(await response.Text(), Is.EqualTo(text));
        Assert.That(await response.Read(), Is.EqualTo(body));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_UTF16_body_with_a_mark_and_no_charset_decodes_by_the_mark(bool bigEndian)
    {
        var encoding = new UnicodeEncoding(bigEndian, byteOrderMark: true);
        await using var server = Serve("text/plain", Marked(encoding, "γάμμα €"), dribble: true);
        using var session = new ClientSession();
        var response = await session.Get(server.Url());
        Assert.That(await response.Text(), Is.EqualTo("γάμμα €"));
        Assert.That(response.GetEncoding().CodePage, Is.EqualTo(encoding.CodePage));
    }

    [Test]
    public async Task An_encoding_passed_to_Text_drops_its_own_mark_only()
    {
        await using var server = Serve("text/plain", Marked(Encoding.UTF8, "café"));
        using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text(Encoding.UTF8)), Is.EqualTo("café"));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text(Encoding.Latin1)), Is.EqualTo("ï»¿cafÃ©"),
            "the caller chose Latin-1: its bytes are all text");
    }

    [Test]
    public async Task A_mark_followed_by_bytes_that_are_not_UTF8_fails_with_TextDecodeError_at_their_offset()
    {
        await using var server = Serve("text/plain", [.. Utf8Mark, 0x61, 0xE9]);
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<TextDecodeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Text()));
        Assert.That(e!.Offset, Is.EqualTo(4));
        Assert.That(e.Message, Does.Contain("byte order mark"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Json_of_a_marked_document_parses(bool utf16)
    {
        // RFC 8259 §8.1 lets a parser ignore the mark; System.Text.Json's span reader fails at its first byte.
        var body = utf16 ? Marked(new UnicodeEncoding(false, true), """{"name":"é"}""") : Marked(Encoding.UTF8, """{"name":"é"}""");
        await using var server = Serve("application/json", body, dribble: true);
        using var session = new ClientSession();
        var dto = await session.Get(server.Url()).SelectMany(r => r.Json(NamedDtoContext.Default.NamedDto));
        Assert.That(dto, Is.EqualTo(new NamedDto("é")));
    }

    [TestCase("text/plain", null)]
    [TestCase("text/plain; charset=utf-8", "utf-8")]
    public async Task Lines_of_a_marked_body_dribbled_one_byte_at_a_time_leave_the_mark_out(string contentType, string? passed)
    {
        await using var server = Serve(contentType, Marked(Encoding.UTF8, "a\nβ\n"), chunked: true, dribble: true);
        using var session = new ClientSession();
        var encoding = passed is null ? null : Encoding.GetEncoding(passed);
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Lines(encoding)).ToList(), Is.EqualTo(new[] { "a", "β" }));
    }

    [Test]
    public void Lines_split_at_every_boundary_pick_the_decoder_by_the_mark()
    {
        foreach (var encoding in new Encoding[] { Encoding.UTF8, new UnicodeEncoding(false, true), new UnicodeEncoding(true, true) })
        {
            var bytes = Marked(encoding, "x\r\ny€\nz");
            for (var i = 0; i <= bytes.Length; i++)
            for (var j = i; j <= bytes.Length; j++)
            {
                var lines = Split(StrictUtf8, sniff: true, bytes[..i], bytes[i..j], bytes[j..]);
                Assert.That(lines, Is.EqualTo(new[] { "x", "y€", "z" }), $"{encoding.WebName} cut at {i} and {j}");
            }
        }
    }

    [Test]
    public void A_body_that_only_starts_like_a_mark_is_text()
    {
        // 0xEF 0xBB 0x61 is not a mark; as strict UTF-8 it is a broken character, reported as such.
        Assert.Throws<TextDecodeError>(() => Split(StrictUtf8, sniff: true, [0xEF], [0xBB], [0x61, 0x0A]));
        Assert.That(Split(Encoding.Latin1, sniff: false, [0xEF], [0xBB, 0x61]), Is.EqualTo(new[] { "ï»a" }));
        Assert.That(Split(Encoding.Latin1, sniff: false, [0xFF]), Is.EqualTo(new[] { "ÿ" }), "a body shorter than any mark");
        Assert.That(Split(StrictUtf8, sniff: true), Is.Empty);
    }

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    private static List<string> Split(Encoding encoding, bool sniff, params byte[][] pieces)
    {
        var splitter = new LineSplitter(encoding, ClientResponse.DefaultMaxLineLength, sniff);
        var output = new List<string>();
        foreach (var piece in pieces) splitter.Push(piece, output);
        splitter.Complete(output);
        return output;
    }
}
