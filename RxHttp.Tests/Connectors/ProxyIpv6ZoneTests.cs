using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// An IPv6 zone ("[fe80::1%25eth0]", RFC 6874) names an interface of this machine: what goes to an HTTP proxy, the
/// absolute-form target and the CONNECT authority (RFC 9112 §3.2.2, §3.2.3), leaves it out as the Host header does.
/// </summary>
[TestFixture]
public class ProxyIpv6ZoneTests
{
    private static async Task<string[]> HeadSentToProxy(Func<ClientSession, Url, Task> call)
    {
        await using var proxy = RawServer.Respond("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", closeAfter: true);
        await using var session = new ClientSession();
        try
        {
            await call(session, proxy.Url());
        }
        catch (ClientResponseError)
        {
            // The proxy refuses every request: only what it was sent matters here.
        }
        return proxy.Requests.Single().Split("\r\n");
    }

    [TestCase("http://[fe80::1%25eth0]:8080/x?q=1", "GET http://[fe80::1]:8080/x?q=1 HTTP/1.1")]
    [TestCase("http://[fe80::1%eth0]/x", "GET http://[fe80::1]/x HTTP/1.1")]
    [TestCase("http://u:p@[FE80::1%251]/x", "GET http://[fe80::1]/x HTTP/1.1")]
    public async Task The_absolute_form_target_leaves_the_zone_out(string url, string requestLine)
    {
        var head = await HeadSentToProxy(async (session, proxy) =>
        {
            using var r = await session.Get(url, new RequestOptions { Proxy = proxy }).Timeout(TimeSpan.FromSeconds(20));
        });
        Assert.That(head[0], Is.EqualTo(requestLine));
        Assert.That(string.Join("\n", head), Does.Not.Contain("%"));
    }

    [TestCase("https://[fe80::1%25eth0]:8443/x", "[fe80::1]:8443")]
    [TestCase("https://[fe80::1%eth0]/x", "[fe80::1]:443")]
    public async Task The_connect_authority_leaves_the_zone_out(string url, string authority)
    {
        var head = await HeadSentToProxy(async (session, proxy) =>
        {
            using var r = await session.Get(url, new RequestOptions { Proxy = proxy }).Timeout(TimeSpan.FromSeconds(20));
        });
        Assert.That(head[0], Is.EqualTo($"CONNECT {authority} HTTP/1.1"));
        Assert.That(head, Does.Contain($"Host: {authority}"));
    }

    [Test]
    public async Task A_wss_handshake_tunnel_leaves_the_zone_out()
    {
        var head = await HeadSentToProxy(async (session, proxy) =>
        {
            await using var ws = await session.WsConnectAsync("wss://[fe80::1%25eth0]/chat", new WsConnectOptions { Proxy = proxy });
        });
        Assert.That(head[0], Is.EqualTo("CONNECT [fe80::1]:443 HTTP/1.1"));
        Assert.That(head, Does.Contain("Host: [fe80::1]:443"));
    }

    [Test]
    public void The_pool_still_tells_the_interfaces_apart()
    {
        // Only the wire loses the zone: the same address on two interfaces is two hosts to this machine.
        var proxy = new ProxySettings("http://127.0.0.1:3128");
        Assert.That(proxy.KeyFor(Url.Parse("https://[fe80::1%25eth0]/"), null), Is.Not.EqualTo(proxy.KeyFor(Url.Parse("https://[fe80::1%25eth1]/"), null)));
    }
}
