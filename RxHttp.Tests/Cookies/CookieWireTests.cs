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
}
