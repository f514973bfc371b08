using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Urls;

/// <summary>
/// URLs and query parameters are percent-encoded as UTF-8, which has no form for a lone UTF-16 surrogate (text cut
/// inside an emoji). The quoter dropped it, so "a\ud800b" went out as "/ab", a different resource than was asked for,
/// where aiohttp (yarl's quoter) raises UnicodeEncodeError and HttpClient (System.Uri) sends U+FFFD. A URL holding one
/// is now an <see cref="InvalidUrl"/> and a parameter holding one an <see cref="ArgumentException"/>, before any socket
/// opens; a whole surrogate pair still goes out as its UTF-8. Over a real socket.
/// </summary>
[TestFixture]
public class UrlLoneSurrogateTests
{
    // Built here: an attribute's string is stored as UTF-8, which turns a lone surrogate into U+FFFD.
    private static readonly string[] Paths = ["/a\ud800b", "/?q=x\udc00", "/#f\ud83c", "/\udc00\ud800"];

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public async Task A_url_with_a_lone_surrogate_is_refused_before_any_socket_opens(int which)
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        var url = server.Url(Paths[which]);
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<InvalidUrl>(async () => await session.Get(url));
        Assert.That(e!.Message, Does.Contain("surrogate"));
        Assert.Throws<InvalidUrl>(() => Url.Parse(url, encoded: true), "encoded mode would have sent it as U+FFFD");
        Assert.That(server.ConnectionCount, Is.EqualTo(0));
    }

    [Test]
    public void User_information_with_a_lone_surrogate_is_refused()
    {
        Assert.Throws<InvalidUrl>(() => Url.Parse("http://us\ud800er:pw@example.com/"));
        Assert.Throws<InvalidUrlClientError>(() => Url.ParseAbsolute("http://user:p\udfffw@example.com/"));
    }

    [Test]
    public async Task A_parameter_with_a_lone_surrogate_is_refused_before_any_socket_opens()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        Assert.Multiple(() =>
        {
            Assert.That(() => new QueryParams { { "q", "cut \ud83c" } }, Throws.ArgumentException.With.Message.Contains("surrogate"));
            Assert.That(() => new QueryParams { { "k\udc00", "v" } }, Throws.ArgumentException);
            Assert.That(() => new QueryParams { { "q", new[] { "fine", "x\ud800" } } }, Throws.ArgumentException);
            Assert.That(() => new QueryParams("q=\ud800"), Throws.ArgumentException);
            Assert.That(() => session.Get(server.Url(), new() { Params = new Dictionary<string, string> { ["q"] = "a\ud800" } }),
                Throws.ArgumentException);
        });
        Assert.That(server.ConnectionCount, Is.EqualTo(0));
    }

    [Test]
    public async Task A_surrogate_pair_goes_out_as_its_UTF8()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        using var response = await session.Get(server.Url("/🎉"), new() { Params = new Dictionary<string, string> { ["q"] = "🎉" } });
        Assert.That(server.Requests, Has.Count.EqualTo(1));
        Assert.That(server.Requests[0], Does.StartWith("GET /%F0%9F%8E%89?q=%F0%9F%8E%89 HTTP/1.1\r\n"));
    }
}
