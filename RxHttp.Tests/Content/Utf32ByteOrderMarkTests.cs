using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// UTF-32 byte order marks (FF FE 00 00 and 00 00 FE FF) name UTF-32, not UTF-16: the LE mark starts with the
/// UTF-16LE one, and a body Python wrote with <c>text.encode("utf-32")</c> and <c>charset=utf-32</c> came out of
/// Text() as UTF-16, a NUL after every character. HttpClient's ReadAsStringAsync and Python's utf-32 codec (what
/// aiohttp's text() uses) read the mark as UTF-32. Over real sockets, dribbled one byte at a time.
/// </summary>
[TestFixture]
public class Utf32ByteOrderMarkTests
{
    private static byte[] Marked(bool bigEndian, string text)
    {
        var encoding = new UTF32Encoding(bigEndian, byteOrderMark: true);
        return [.. encoding.GetPreamble(), .. encoding.GetBytes(text)];
    }

    [TestCase("text/plain; charset=utf-32", false)]
    [TestCase("text/plain", false)]
    [TestCase("text/plain", true)]
    [TestCase("text/plain; charset=utf-8", true)] // the mark wins over a charset that contradicts it, as for UTF-16
    public async Task Text_of_a_UTF32_body_with_a_mark_decodes_by_the_mark(string contentType, bool bigEndian)
    {
        await using var server = RawServer.Body(contentType, Marked(bigEndian, "héllo 🎉"), dribble: true);
        using var session = new ClientSession();
        var response = await session.Get(server.Url());
        Assert.That(await response.Text(), Is.EqualTo("héllo 🎉"));
        Assert.That(response.GetEncoding().CodePage, Is.EqualTo(bigEndian ? 12001 : 12000));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Json_of_a_UTF32_document_with_a_mark_parses(bool bigEndian)
    {
        await using var server = RawServer.Body("application/json", Marked(bigEndian, """{"name":"é"}"""), dribble: true);
        using var session = new ClientSession();
        var dto = await session.Get(server.Url()).SelectMany(r => r.Json(NamedDtoContext.Default.NamedDto));
        Assert.That(dto, Is.EqualTo(new NamedDto("é")));
    }

    [TestCase("text/plain", null)]
    [TestCase("text/plain; charset=utf-32", null)]
    [TestCase("text/plain", "utf-32")]
    public async Task Lines_of_a_UTF32_body_dribbled_leave_the_mark_out(string contentType, string? passed)
    {
        await using var server = RawServer.Body(contentType, Marked(false, "a\nβ\n"), chunked: true, dribble: true);
        using var session = new ClientSession();
        var encoding = passed is null ? null : Encoding.GetEncoding(passed);
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Lines(encoding)).ToList(), Is.EqualTo(new[] { "a", "β" }));
    }

    [Test]
    public async Task A_UTF16LE_body_with_a_mark_is_still_UTF16()
    {
        // FF FE then a character: the UTF-32 mark needs two NULs after FF FE, which no UTF-16 text starts with.
        var utf16 = new UnicodeEncoding(false, true);
        await using var server = RawServer.Body("text/plain", [.. utf16.GetPreamble(), .. utf16.GetBytes("A")], dribble: true);
        using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("A"));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Lines()).ToList(), Is.EqualTo(new[] { "A" }));
    }
}
