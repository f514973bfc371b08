using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using NUnit.Framework;
using RxHttp.Tests.Connectors;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.WebSockets;

/// <summary>The websocket handshake shares the session's cookie jar and proxy rules with HTTP requests.</summary>
[TestFixture]
public class ClientWebSocketSessionTests
{
    [Test]
    public async Task Handshake_sends_jar_cookies_and_stores_the_101_set_cookie()
    {
        await using var server = await WsServers.StartKestrelAsync();
        await using var session = new ClientSession(new ClientSessionOptions { CookieJar = new CookieJar(allowIpHosts: true) });
        session.CookieJar.UpdateCookies(new[] { "sid=abc; Path=/" }, new Uri(server.BaseUrl));
        await using var ws = await session.WsConnectAsync(server.Url("ws/cookie").Replace("http", "ws"));
        var first = await ws.Receive().Timeout(TimeSpan.FromSeconds(20));
        Assert.That(first.Text, Is.EqualTo("sid=abc"));
        Assert.That(session.CookieJar.FilterCookies(new Uri(server.BaseUrl)).Select(c => c.Key), Does.Contain("from101"));
    }

    /// <summary>A server that answers a handshake to a path starting with "/hop" with <paramref name="redirect"/> and anything else with 403.</summary>
    private static RawServer RedirectingServer(string redirect) => new(async c =>
    {
        while (await c.ReadRequestAsync() is { } request)
        {
            var hop = request.StartsWith("GET /hop", StringComparison.Ordinal);
            await c.WriteAsync(hop ? redirect : "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        }
    });

    private static string? CookieHeaderOf(RawServer server, int index)
    {
        lock (server.Requests)
            return server.Requests[index].Split("\r\n").FirstOrDefault(l => l.StartsWith("Cookie:", StringComparison.OrdinalIgnoreCase));
    }

    [Test]
    public async Task A_cookie_set_by_a_handshake_redirect_goes_out_with_the_next_hop()
    {
        await using var server = RedirectingServer("HTTP/1.1 302 Found\r\nLocation: /next\r\nSet-Cookie: hop=1; Path=/\r\nContent-Length: 0\r\n\r\n");
        await using var session = new ClientSession(new ClientSessionOptions { CookieJar = new CookieJar(allowIpHosts: true) });
        Assert.ThrowsAsync<WsServerHandshakeError>(async () => await session.WsConnectAsync(server.Url("/hop").Replace("http", "ws")));
        Assert.That(CookieHeaderOf(server, 1), Is.EqualTo("Cookie: hop=1"), "aiohttp stores every hop's cookies before following it");
        Assert.That(session.CookieJar.Select(c => c.Name), Is.EqualTo(new[] { "hop" }));
    }

    [Test]
    public async Task An_explicit_cookie_header_is_sent_with_the_jars_cookies_appended_as_for_http()
    {
        await using var server = RedirectingServer("");
        await using var session = new ClientSession(new ClientSessionOptions { CookieJar = new CookieJar(allowIpHosts: true) });
        session.CookieJar.UpdateCookies(new[] { "sid=abc; Path=/" }, new Uri(server.Url()));
        var options = new WsConnectOptions { Headers = new Dictionary<string, string> { ["Cookie"] = "mine=1" } };
        Assert.ThrowsAsync<WsServerHandshakeError>(async () => await session.WsConnectAsync(server.Url("/ws").Replace("http", "ws"), options));
        using (await session.Get(server.Url("/http"), new RequestOptions { Headers = options.Headers }).Timeout(TimeSpan.FromSeconds(20))) { }
        Assert.That(CookieHeaderOf(server, 0), Is.EqualTo("Cookie: mine=1; sid=abc"));
        Assert.That(CookieHeaderOf(server, 1), Is.EqualTo(CookieHeaderOf(server, 0)), "an HTTP request with the same header sends the same");
    }

    private static string HeadLine(RawServer server, int index, string prefix)
    {
        lock (server.Requests)
            return server.Requests[index].Split("\r\n").First(l => l.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
    }

    [Test]
    public async Task A_handshake_redirect_given_as_uri_is_followed_and_requoted_as_the_sessions_http_redirects_are()
    {
        await using var server = RedirectingServer("HTTP/1.1 302 Found\r\nURI: /n%7eext\r\nContent-Length: 0\r\n\r\n");
        await using var requoting = new ClientSession();
        await using var verbatim = new ClientSession(new ClientSessionOptions { RequoteRedirectUrl = false });
        Assert.ThrowsAsync<WsServerHandshakeError>(async () => await requoting.WsConnectAsync(server.Url("/hop").Replace("http", "ws")));
        Assert.ThrowsAsync<WsServerHandshakeError>(async () => await verbatim.WsConnectAsync(server.Url("/hop").Replace("http", "ws")));
        Assert.That(HeadLine(server, 1, "GET "), Is.EqualTo("GET /n~ext HTTP/1.1"), "URI stands in for a missing Location, requoted");
        Assert.That(HeadLine(server, 3, "GET "), Is.EqualTo("GET /n%7eext HTTP/1.1"), "RequoteRedirectUrl = false: byte for byte");
    }

    [Test]
    public async Task Url_credentials_follow_a_same_origin_handshake_redirect_and_a_callers_host_stays_with_its_host()
    {
        var redirect = "";
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
                await c.WriteAsync(request.StartsWith("GET /hop", StringComparison.Ordinal) ? redirect : "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        });
        await using var session = new ClientSession();

        // An absolute Location to the same origin: the URL's credentials go on, as for a relative one.
        redirect = $"HTTP/1.1 307 Temporary Redirect\r\nLocation: {server.Url("/same")}\r\nContent-Length: 0\r\n\r\n";
        var withCredentials = server.Url("/hop").Replace("http://", "ws://u:p@");
        Assert.ThrowsAsync<WsServerHandshakeError>(async () => await session.WsConnectAsync(withCredentials));
        Assert.That(HeadLine(server, 1, "Authorization:"), Is.EqualTo("Authorization: Basic dTpw"));

        // Another host name (the same server): the caller's Host header named the first one.
        redirect = $"HTTP/1.1 307 Temporary Redirect\r\nLocation: {server.Url("/other").Replace("127.0.0.1", "localhost")}\r\nContent-Length: 0\r\n\r\n";
        var options = new WsConnectOptions { Headers = new Dictionary<string, string> { ["Host"] = "vhost.test" } };
        Assert.ThrowsAsync<WsServerHandshakeError>(async () => await session.WsConnectAsync(server.Url("/hop").Replace("http", "ws"), options));
        Assert.That(HeadLine(server, 2, "Host:"), Is.EqualTo("Host: vhost.test"));
        Assert.That(HeadLine(server, 3, "Host:"), Is.EqualTo($"Host: localhost:{new Uri(server.Url()).Port}"));
    }

    [Test]
    public async Task A_cross_origin_handshake_redirect_drops_the_explicit_cookie_header()
    {
        await using var target = RedirectingServer("");
        await using var front = RedirectingServer($"HTTP/1.1 302 Found\r\nLocation: {target.Url("/ws")}\r\nContent-Length: 0\r\n\r\n");
        await using var session = new ClientSession();
        var options = new WsConnectOptions { Headers = new Dictionary<string, string> { ["Cookie"] = "mine=1" } };
        Assert.ThrowsAsync<WsServerHandshakeError>(async () => await session.WsConnectAsync(front.Url("/hop").Replace("http", "ws"), options));
        Assert.That(CookieHeaderOf(front, 0), Is.EqualTo("Cookie: mine=1"));
        Assert.That(CookieHeaderOf(target, 0), Is.Null, "another port is another origin: the Cookie header stays behind, as for HTTP redirects");
    }

    [Test]
    public async Task Wss_goes_through_a_proxy_connect_tunnel()
    {
        await using var server = await WsServers.StartKestrelAsync(KestrelServer.MakeCertificate());
        using var proxy = new Tinyproxy();
        await using var session = new ClientSession(new ClientSessionOptions { Proxy = new ProxySettings(proxy.Url) });
        var before = server.ConnectionCount;
        await using var ws = await session.WsConnectAsync(server.Url("ws/echo").Replace("https", "wss"), new WsConnectOptions { Tls = TlsOptions.NoVerify });
        await ws.SendStr("through the tunnel").Timeout(TimeSpan.FromSeconds(20));
        var echo = await ws.Receive().Timeout(TimeSpan.FromSeconds(20));
        Assert.That(echo.Text, Is.EqualTo("through the tunnel"));
        Assert.That(server.ConnectionCount - before, Is.EqualTo(1));

        // The same session settings against a proxy that wants credentials: the tunnel is refused, so the
        // websocket really went through the proxy above.
        using var guarded = new Tinyproxy("alice s3cret");
        await using var refused = new ClientSession(new ClientSessionOptions { Proxy = new ProxySettings(guarded.Url) });
        var e = Assert.ThrowsAsync<ClientHttpProxyError>(async () =>
            await refused.WsConnectAsync(server.Url("ws/echo").Replace("https", "wss"), new WsConnectOptions { Tls = TlsOptions.NoVerify }));
        Assert.That(e!.Status, Is.EqualTo(407));
    }

    [Test]
    public async Task Ws_through_a_plain_http_proxy_opens_a_connect_tunnel_with_the_proxys_headers_and_credentials()
    {
        // RFC 6455 §4.1: a ws:// handshake through an HTTP proxy goes in a CONNECT tunnel, as wss:// does.
        await using var proxy = RawServer.Respond("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", closeAfter: true);
        var settings = new ProxySettings(Url.Parse(proxy.Url()), new System.Net.NetworkCredential("alice", "s3cret"),
            [new("X-Proxy-Tag", "blue")]);
        await using var session = new ClientSession(new ClientSessionOptions { Proxy = settings });

        var e = Assert.ThrowsAsync<ClientHttpProxyError>(async () => await session.WsConnectAsync("ws://chat.example.test/room?x=1"));
        Assert.That(e!.Status, Is.EqualTo(403));
        var lines = proxy.Requests.Single().Split("\r\n");
        Assert.That(lines[0], Is.EqualTo("CONNECT chat.example.test:80 HTTP/1.1"));
        Assert.That(lines, Does.Contain("Host: chat.example.test:80"));
        Assert.That(lines, Does.Contain("X-Proxy-Tag: blue"));
        Assert.That(lines, Does.Contain("Proxy-Authorization: Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("alice:s3cret"))));
        Assert.That(session.Connector.CurrentState.InUse, Is.Zero);
    }

    [Test]
    public async Task Ws_goes_through_tinyproxy_whose_forwarding_drops_the_upgrade()
    {
        // Forwarded in absolute form (as aiohttp sends it), tinyproxy and squid strip Upgrade and the server refuses
        // the handshake; through the tunnel the server sees the handshake as sent.
        await using var server = await WsServers.StartKestrelAsync();
        using var proxy = new Tinyproxy("alice s3cret");
        var settings = new ProxySettings(Url.Parse(proxy.Url), new System.Net.NetworkCredential("alice", "s3cret"));
        await using var session = new ClientSession(new ClientSessionOptions { Proxy = settings });
        await using var ws = await session.WsConnectAsync(server.Url("ws/headers").Replace("http", "ws"));
        var first = await ws.Receive().Timeout(TimeSpan.FromSeconds(20));
        Assert.That(first.Text!.Split('|')[0], Is.EqualTo("/ws/headers"));
    }

    [Test]
    public async Task Handshake_follows_redirects_and_drops_credentials_across_origins()
    {
        await using var target = await WsServers.StartKestrelAsync();
        await using var front = await KestrelServer.StartAsync(app =>
        {
            app.MapGet("/ws/same", () => Microsoft.AspNetCore.Http.Results.Redirect("/ws/elsewhere"));
            app.MapGet("/ws/elsewhere", () => Microsoft.AspNetCore.Http.Results.Redirect(target.Url("ws/headers"), preserveMethod: true));
            app.MapGet("/ws/loop", () => Microsoft.AspNetCore.Http.Results.Redirect("/ws/loop"));
        });
        await using var session = new ClientSession();
        var options = new WsConnectOptions { Auth = new System.Net.NetworkCredential("u", "p") };

        // Same origin on the first hop, then a 307 to another port (another origin): Authorization must not follow.
        await using (var ws = await session.WsConnectAsync(front.Url("ws/same").Replace("http", "ws"), options))
        {
            var first = await ws.Receive().Timeout(TimeSpan.FromSeconds(20));
            var fields = first.Text!.Split('|');
            Assert.That(fields[0], Is.EqualTo("/ws/headers"));
            Assert.That(fields[2], Is.Empty, "no Authorization after a cross-origin hop");
        }

        // Directly at the target, the credentials are sent.
        await using (var ws = await session.WsConnectAsync(target.Url("ws/headers").Replace("http", "ws"), options))
        {
            var first = await ws.Receive().Timeout(TimeSpan.FromSeconds(20));
            Assert.That(first.Text!.Split('|')[2], Does.StartWith("Basic "));
        }

        var e = Assert.ThrowsAsync<TooManyRedirects>(async () => await session.WsConnectAsync(front.Url("ws/loop").Replace("http", "ws")));
        Assert.That(e!.Status, Is.EqualTo(302));
        Assert.That(session.Connector.CurrentState.InUse, Is.Zero);
    }

    [Test]
    public async Task A_cross_origin_redirect_drops_cookie_and_proxy_authorization_headers_as_http_redirects_do()
    {
        var heads = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var target = WsServers.Raw(async ws =>
        {
            heads.Enqueue(ws.Request);
            await ws.SendAsync(WsServers.CloseFrame(1000));
        });
        await using var front = RawServer.Respond($"HTTP/1.1 307 Temporary Redirect\r\nLocation: {target.Url("/ws")}\r\nContent-Length: 0\r\n\r\n", closeAfter: true);
        await using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(front.Url("/ws").Replace("http", "ws"), new WsConnectOptions
        {
            Headers = new Dictionary<string, string> { ["Cookie"] = "sid=secret", ["Proxy-Authorization"] = "Basic eA==", ["X-Test"] = "kept" },
        });

        await Wait.Until(() => !heads.IsEmpty, what: "the target to record the request head");
        Assert.That(front.Requests[0], Does.Contain("Cookie: sid=secret").And.Contain("Proxy-Authorization: Basic eA=="), "the first origin had them");
        Assert.That(heads.TryDequeue(out var head), Is.True);
        var lines = head!.Split("\r\n");
        Assert.That(lines, Does.Contain("X-Test: kept"));
        Assert.That(lines.Where(l => l.StartsWith("Cookie:", StringComparison.OrdinalIgnoreCase) || l.StartsWith("Proxy-Authorization:", StringComparison.OrdinalIgnoreCase)), Is.Empty);
    }

    [TestCase("auth")]
    [TestCase("header")]
    public async Task A_cross_origin_redirect_to_a_location_with_credentials_sends_those_not_the_first_origins(string given)
    {
        // The Location's credentials are the only ones meant for the new origin; the first origin's Auth or
        // Authorization header must not go along with them (an open redirect would hand them to any host).
        var heads = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var target = WsServers.Raw(async ws =>
        {
            heads.Enqueue(ws.Request);
            await ws.SendAsync(WsServers.CloseFrame(1000));
        });
        var location = target.Url("/ws").Replace("http://", "http://u2:p2@");
        await using var front = RawServer.Respond($"HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n", closeAfter: true);
        await using var session = new ClientSession();
        var first = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("u:p"));
        var options = given == "auth"
            ? new WsConnectOptions { Auth = new System.Net.NetworkCredential("u", "p") }
            : new WsConnectOptions { Headers = new Dictionary<string, string> { ["Authorization"] = first } };
        await using var ws = await session.WsConnectAsync(front.Url("/ws").Replace("http", "ws"), options);

        await Wait.Until(() => !heads.IsEmpty, what: "the target to record the request head");
        Assert.That(front.Requests[0], Does.Contain("Authorization: " + first), "the first origin had them");
        Assert.That(heads.TryDequeue(out var head), Is.True);
        var sent = head!.Split("\r\n").Where(l => l.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase));
        Assert.That(sent, Is.EqualTo(new[] { "Authorization: Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("u2:p2")) }));
    }
}
