using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Urls;

/// <summary>
/// IPv6 literals with a zone ("[fe80::1%25eth0]", RFC 6874): the zone picks this machine's interface and is never
/// sent to the server.
/// </summary>
[TestFixture]
public class UrlIpv6ZoneTests
{
    [TestCase("http://[fe80::1%25eth0]/", "[fe80::1]")]
    [TestCase("http://[fe80::1%eth0]:8080/", "[fe80::1]:8080")]
    [TestCase("https://[FE80::1%254]:443/", "[fe80::1]")]
    public void The_host_header_leaves_the_zone_out(string url, string expected)
    {
        Assert.That(Url.Parse(url).HostHeader, Is.EqualTo(expected));
        Assert.That(Url.Parse(url).Origin, Does.Contain("%"), "the origin keeps it: the same address on two interfaces is two hosts here");
    }

    [Test]
    public async Task The_zone_is_not_sent_on_the_wire()
    {
        // RFC 6874 §4: a client MUST remove the zone from what it sends; curl and HttpClient send "Host: [::1]:port".
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", address: IPAddress.IPv6Loopback);
        await using var session = new ClientSession();
        using var r = await session.Get($"http://[::1%25lo]:{server.Port}/zone");
        var head = server.Requests.Single().Split("\r\n");
        Assert.That(head[0], Is.EqualTo("GET /zone HTTP/1.1"));
        Assert.That(head, Does.Contain($"Host: [::1]:{server.Port}"));
    }

    [TestCase("fe80::1%251", 1, TestName = "Zone written as RFC 6874 says (%25 before it) names interface 1, not 251")]
    [TestCase("fe80::1%1", 1, TestName = "A bare % (as ip(8) writes it) is taken too")]
    [TestCase("[fe80::1%257]", 7, TestName = "Bracketed, %25 form")]
    [TestCase("fe80::1%25", 25, TestName = "A bare zone that merely starts with 25 is kept")]
    public async Task The_zone_picks_the_interface(string host, int scope)
    {
        // IPAddress reads "fe80::1%251" as interface 251 and "fe80::1%25eth0" as none: the connection would leave by
        // the wrong interface, or fail with EINVAL as it does for a link-local address without one.
        using var connector = new Resolving();
        var address = (await connector.Resolve(host)).Single();
        Assert.That(address.ScopeId, Is.EqualTo(scope));
        Assert.That(address.AddressFamily, Is.EqualTo(AddressFamily.InterNetworkV6));
    }

    [Test]
    public void An_escaped_zone_name_is_unescaped()
        => Assert.That(Url.SocketHost("fe80::1%25en%30"), Is.EqualTo("fe80::1%en0"));

    private sealed class Resolving : TcpConnector
    {
        public Task<IReadOnlyList<IPAddress>> Resolve(string host) => ResolveAsync(host, 80, CancellationToken.None);
    }
}
