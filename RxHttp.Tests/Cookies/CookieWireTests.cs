using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cookies;

/// <summary>Set-Cookie as a real server sends it, and the Cookie header the session sends back.</summary>
public class CookieWireTests
{
    [Test]
    public async Task Odd_names_come_back_as_received_and_a_trailing_dot_domain_is_ignored()
    {
        await using var server = RawServer.Respond(
            "HTTP/1.1 200 OK\r\n" +
            "Set-Cookie: \"q\"=1\r\n" +
            "Set-Cookie: a b=2; Path=/\r\n" +
            "Set-Cookie: dot=3; Domain=127.0.0.1.\r\n" +
            "Content-Length: 0\r\n\r\n");
        using var session = new ClientSession(new ClientSessionOptions { CookieJar = new CookieJar(allowIpHosts: true) });
        await session.Get(server.Url("/set")).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20));
        await session.Get(server.Url("/echo")).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20));
        string second;
        lock (server.Requests) second = server.Requests[1];
        var cookie = second.Split("\r\n").Single(l => l.StartsWith("Cookie:", StringComparison.OrdinalIgnoreCase));
        Assert.That(cookie, Is.EqualTo("Cookie: \"q\"=1; a b=2"));
    }

    private static string CookieLine(RawServer server, int index)
    {
        lock (server.Requests) return server.Requests[index].Split("\r\n").Single(l => l.StartsWith("Cookie:", StringComparison.OrdinalIgnoreCase));
    }

    [Test]
    public async Task Per_request_values_are_quoted_as_the_jar_quotes_preloaded_ones_byte_for_byte_as_aiohttp()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        var pairs = new Dictionary<string, string> { ["a"] = "x/y", ["b"] = "1; admin=true", ["c"] = "\u00e9", ["d"] = "" };
        using var session = new ClientSession(new ClientSessionOptions { Cookies = pairs });
        await session.Get(server.Url("/preloaded")).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20));
        using var plain = new ClientSession();
        await plain.Get(server.Url("/own"), new RequestOptions { Cookies = pairs }).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20));
        // What aiohttp 3.8 sends for cookies={...} against the same server: the ';' cannot end the pair.
        const string aiohttp = "Cookie: a=\"x/y\"; b=\"1\\073 admin=true\"; c=\"\\351\"; d=\"\"";
        Assert.That(CookieLine(server, 0), Is.EqualTo(aiohttp));
        Assert.That(CookieLine(server, 1), Is.EqualTo(aiohttp));
    }

    [Test]
    public async Task Per_request_cookies_that_would_split_the_cookie_header_are_refused_and_nothing_is_sent()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        Assert.ThrowsAsync<ArgumentException>(async () => await session.Get(server.Url("/"),
            new RequestOptions { Cookies = new Dictionary<string, string> { ["a=b; admin"] = "1" } }));
        using var raw = new ClientSession(new ClientSessionOptions { CookieJar = new CookieJar(quoteCookie: false) });
        Assert.ThrowsAsync<ArgumentException>(async () => await raw.Get(server.Url("/"),
            new RequestOptions { Cookies = new Dictionary<string, string> { ["b"] = "1; admin=true" } }));
        await raw.Get(server.Url("/ok"), new RequestOptions { Cookies = new Dictionary<string, string> { ["b"] = "x/y" } })
            .SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20));
        lock (server.Requests) Assert.That(server.Requests, Has.Count.EqualTo(1), "the refused requests never reached the server");
        Assert.That(CookieLine(server, 0), Is.EqualTo("Cookie: b=x/y"), "without quoting, a safe value goes out raw");
    }
}
