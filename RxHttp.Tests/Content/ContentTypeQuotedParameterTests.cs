using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// A quoted Content-Type parameter is one value, whatever ';' or "charset=" it holds: split on every ';', the text
/// inside the quotes named the charset and Text() decoded Latin-1 as UTF-16. aiohttp takes its charset from Python's
/// email parser, which keeps quoted strings whole (the expected values below are what it gives). Over real sockets.
/// </summary>
[TestFixture]
public class ContentTypeQuotedParameterTests
{
    [TestCase("text/plain; charset=iso-8859-1; format=\"a;charset=utf-16\"", "iso-8859-1")]
    [TestCase("text/plain; title=\"say \\\"hi; charset=utf-16\\\"\"; charset=latin1", "latin1")]
    [TestCase("text/plain; x=\"a;b\"; charset=\"ISO-8859-1\"", "ISO-8859-1")]
    public async Task Text_uses_the_charset_parameter_not_text_inside_a_quoted_one(string contentType, string charset)
    {
        await using var server = RawServer.Body(contentType, [0xE9, 0x41]);
        using var session = new ClientSession();
        var response = await session.Get(server.Url());
        Assert.That(response.Charset, Is.EqualTo(charset));
        Assert.That(response.ContentType, Is.EqualTo("text/plain"));
        Assert.That(await response.Text(), Is.EqualTo("éA"));
        Assert.That(response.GetEncoding().WebName, Is.EqualTo("iso-8859-1"));
    }

    [Test]
    public async Task A_quoted_parameter_without_a_charset_leaves_the_body_UTF8()
    {
        await using var server = RawServer.Body("text/plain; note=\"x; charset=utf-16\"", Encoding.UTF8.GetBytes("ünï"));
        using var session = new ClientSession();
        var response = await session.Get(server.Url());
        Assert.That(response.Charset, Is.Null);
        Assert.That(await response.Text(), Is.EqualTo("ünï"));
    }
}
