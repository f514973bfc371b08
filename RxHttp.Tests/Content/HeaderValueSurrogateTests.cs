using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// Header values go out as UTF-8, which cannot encode a lone UTF-16 surrogate (a value cut inside an emoji): it went
/// out as U+FFFD, other text than was given, where aiohttp's <c>encode("utf-8")</c> raises and HttpClient refuses any
/// non-ASCII value. It is now refused with <see cref="ArgumentException"/> before a socket opens, as CR/LF are; a
/// whole surrogate pair still goes out as its UTF-8. Over a real socket.
/// </summary>
[TestFixture]
public class HeaderValueSurrogateTests
{
    // Built here: an attribute's string is stored as UTF-8, which turns a lone surrogate into U+FFFD.
    private static readonly string[] LoneSurrogates = ["a\ud800b", "a\udc00", "emoji cut \ud83c", "\udc00\ud800"];

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public async Task A_lone_surrogate_is_refused_before_any_socket_opens(int which)
    {
        var value = LoneSurrogates[which];
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<ArgumentException>(async () => await session.Get(server.Url(), new() { Headers = new Dictionary<string, string> { ["X-Tag"] = value } }));
        Assert.That(e!.Message, Does.Contain("surrogate"));
        Assert.That(server.ConnectionCount, Is.EqualTo(0));
        Assert.Throws<ArgumentException>(() => session.Headers.Add("X-Tag", value));
    }

    [Test]
    public async Task A_surrogate_pair_goes_out_as_its_UTF8()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        using var response = await session.Get(server.Url(), new() { Headers = new Dictionary<string, string> { ["X-Tag"] = "party 🎉" } });
        Assert.That(server.Requests, Has.Count.EqualTo(1));
        Assert.That(server.Requests[0], Does.Contain("X-Tag: party \u00f0\u009f\u008e\u0089\r\n"), "the request as Latin-1: the emoji's four UTF-8 bytes");
    }
}
