using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Urls;

/// <summary>User information in a URL: what is a credential and what is only an "@".</summary>
[TestFixture]
public class UrlUserInfoTests
{
    [TestCase("http://@h/p", "http://h/p")]
    [TestCase("http://:@h/p", "http://h/p")]
    [TestCase("http://@h:8080/p", "http://h:8080/p")]
    public void An_empty_user_info_is_no_user_info(string input, string expected)
    {
        // yarl prints "http://@h/" as "http://h/" and WHATWG as well; neither has a user name to send.
        var url = Url.Parse(input);
        Assert.That(url.ToString(), Is.EqualTo(expected));
        Assert.That(url.User, Is.Null);
        Assert.That(url.Password, Is.Null);
        Assert.That(Url.Parse(input, encoded: true).User, Is.Null);
    }

    [TestCase("http://:pw@h/", "", "pw")]
    [TestCase("http://u:@h/", "u", "")]
    [TestCase("http://u@h/", "u", null)]
    public void A_user_info_with_something_in_it_is_kept(string input, string user, string? password)
    {
        var url = Url.Parse(input);
        Assert.That(url.User, Is.EqualTo(user));
        Assert.That(url.Password, Is.EqualTo(password));
        Assert.That(url.ToString(), Is.EqualTo(input));
    }

    [TestCase("@")]
    [TestCase(":@")]
    public async Task An_empty_user_info_sends_no_authorization(string userInfo)
    {
        // It was sent as "Authorization: Basic Og==" (an empty login and password); aiohttp sends none.
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        await using var session = new ClientSession();
        using var r = await session.Get($"http://{userInfo}127.0.0.1:{server.Port}/p");
        var head = server.Requests.Single();
        Assert.That(head, Does.StartWith("GET /p HTTP/1.1\r\n"));
        Assert.That(head, Does.Not.Contain("Authorization"));
        Assert.That(r.Url.ToString(), Is.EqualTo($"http://127.0.0.1:{server.Port}/p"));
    }

    [Test]
    public async Task A_colon_in_the_user_name_is_an_invalid_url_before_any_socket_opens()
    {
        // Basic cannot carry it (RFC 7617): a request failed with ArgumentException "(Parameter 'login')", naming a
        // parameter the caller never passed, and a websocket handshake sent it, for the server to split at that ':'.
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        await using var session = new ClientSession();
        var http = Assert.ThrowsAsync<InvalidUrlClientError>(async () => await session.Get($"http://us%3Aer:secret@127.0.0.1:{server.Port}/"))!;
        Assert.ThrowsAsync<InvalidUrlClientError>(async () => await session.WsConnectAsync($"ws://us%3Aer:secret@127.0.0.1:{server.Port}/"));
        Assert.That(http.Message, Does.Contain("RFC 7617").And.Not.Contain("secret"));
        Assert.That(server.ConnectionCount, Is.EqualTo(0));
    }
}
