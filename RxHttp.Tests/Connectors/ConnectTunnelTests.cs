using System.Net;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>What goes on the wire to the proxy for a CONNECT tunnel, seen by a scripted proxy.</summary>
public class ConnectTunnelTests
{
    [Test]
    public async Task Connect_request_carries_target_proxy_auth_and_proxy_headers()
    {
        await using var proxy = RawServer.Respond("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", closeAfter: true);
        await using var session = new ClientSession();
        var e = Assert.ThrowsAsync<ClientHttpProxyError>(async () => await session.Get("https://origin.test:8443/x", new RequestOptions
        {
            Proxy = proxy.Url(),
            ProxyAuth = new NetworkCredential("alice", "s3cret"),
            ProxyHeaders = new Dictionary<string, string> { ["X-Proxy-Token"] = "t1" },
        }).Timeout(TimeSpan.FromSeconds(20)));
        Assert.That(e!.Status, Is.EqualTo(407));
        var head = proxy.Requests.Single().Split("\r\n");
        Assert.That(head[0], Is.EqualTo("CONNECT origin.test:8443 HTTP/1.1"));
        Assert.That(head, Does.Contain("Host: origin.test:8443"));
        Assert.That(head, Does.Contain("Proxy-Authorization: Basic " + Convert.ToBase64String("alice:s3cret"u8.ToArray())));
        Assert.That(head, Does.Contain("X-Proxy-Token: t1"));
        Assert.That(head, Does.Contain("User-Agent: " + new ClientSessionOptions().UserAgent), "as aiohttp, curl and HttpClient send one");
        Assert.That(session.Connector.CurrentState.Open, Is.Zero, "the refused tunnel's socket is closed");
    }

    [Test]
    public async Task A_user_agent_among_the_proxy_headers_replaces_the_default_one()
    {
        await using var proxy = RawServer.Respond("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", closeAfter: true);
        await using var session = new ClientSession();
        Assert.ThrowsAsync<ClientHttpProxyError>(async () => await session.Get("https://origin.test/x", new RequestOptions
        {
            Proxy = proxy.Url(),
            ProxyHeaders = new Dictionary<string, string> { ["user-agent"] = "corp-agent/1" },
        }).Timeout(TimeSpan.FromSeconds(20)));
        var head = proxy.Requests.Single().Split("\r\n");
        Assert.That(head.Where(l => l.StartsWith("user-agent:", StringComparison.OrdinalIgnoreCase)), Is.EqualTo(new[] { "user-agent: corp-agent/1" }));
    }

    [Test]
    public async Task Session_proxy_is_used_and_a_request_proxy_overrides_it()
    {
        await using var sessionProxy = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsession");
        await using var requestProxy = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nrequest");
        await using var session = new ClientSession(new ClientSessionOptions { Proxy = new ProxySettings(sessionProxy.Url()) });
        Assert.That(await session.Get("http://origin.test/a").SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo("session"));
        Assert.That(await session.Get("http://origin.test/b", new RequestOptions { Proxy = requestProxy.Url() }).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)),
            Is.EqualTo("request"));
        Assert.That(sessionProxy.Requests.Single(), Does.StartWith("GET http://origin.test/a HTTP/1.1\r\n"), "absolute form to the proxy");
        Assert.That(requestProxy.Requests.Single(), Does.StartWith("GET http://origin.test/b HTTP/1.1\r\n"));
    }

    private static async Task<Exception> TunnelError(RawServer proxy)
    {
        await using var session = new ClientSession();
        var e = Assert.CatchAsync(async () => await session.Get("https://origin.test:8443/x", new RequestOptions { Proxy = proxy.Url() })
            .Timeout(TimeSpan.FromSeconds(20)));
        Assert.That(session.Connector.CurrentState.Open, Is.Zero, "a failed tunnel's socket is closed");
        return e!;
    }

    [Test]
    public async Task A_refusal_arriving_a_byte_at_a_time_is_read_whole()
    {
        await using var proxy = RawServer.Respond("HTTP/1.1 403 Forbidden\r\nX-Why: policy\r\nContent-Length: 0\r\n\r\n", dribble: true, closeAfter: true);
        var e = await TunnelError(proxy);
        Assert.That(e, Is.TypeOf<ClientHttpProxyError>());
        var refusal = (ClientHttpProxyError)e;
        Assert.That((refusal.Status, refusal.StatusMessage, refusal.Headers?.Get("X-Why")), Is.EqualTo((403, "Forbidden", "policy")));
    }

    [Test]
    public async Task Interim_1xx_answers_before_the_CONNECT_answer_are_skipped()
    {
        // RFC 9110 §15.2: a client must parse 1xx responses before the final one; aiohttp skips them here too.
        // The 403 after them shows the final answer was the one read.
        await using var proxy = RawServer.Respond("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                                                  + "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", dribble: true, closeAfter: true);
        var e = await TunnelError(proxy);
        Assert.That(e, Is.TypeOf<ClientHttpProxyError>());
        Assert.That(((ClientHttpProxyError)e).Status, Is.EqualTo(403));
    }

    [TestCase("HTTP/1.1 200 Connection est", "Proxy closed the connection during CONNECT.")]
    [TestCase("", "Proxy closed the connection during CONNECT.")]
    [TestCase("HTTP/1.1 2x0 Nope\r\n\r\n", "Invalid response to CONNECT: ")]
    [TestCase("HTTP/1.1 200 Connection established\r\n\r\nearly", "The proxy sent data after its CONNECT response.")]
    public async Task A_proxy_that_answers_CONNECT_wrongly_is_a_ClientProxyConnectionError(string answer, string message)
    {
        await using var proxy = RawServer.Respond(answer, closeAfter: true);
        var e = await TunnelError(proxy);
        Assert.That(e, Is.TypeOf<ClientProxyConnectionError>());
        Assert.That(e.Message, Does.Contain(message));
    }
}
