using System.Reactive.Linq;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Pipeline;

[TestFixture]
public class RedirectsTests
{
    private KestrelServer _a = null!;
    private KestrelServer _b = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _b = await KestrelServer.StartAsync(app => app.Map("/set", (HttpContext c) =>
        {
            c.Response.Headers.Append("Set-Cookie", "hopb=2; Path=/");
            return Results.Text("b");
        }));
        _a = await KestrelServer.StartAsync(app =>
        {
            app.Map("/r/{code:int}", (HttpContext c, int code) =>
            {
                c.Response.StatusCode = code;
                c.Response.Headers.Location = c.Request.Query["to"].ToString() is { Length: > 0 } to ? to : "/echo";
                return Task.CompletedTask;
            });
            app.Map("/loop", (HttpContext c) => { c.Response.StatusCode = 302; c.Response.Headers.Location = "/loop"; return Task.CompletedTask; });
            app.Map("/nolocation", (HttpContext c) => { c.Response.StatusCode = 302; return Task.CompletedTask; });
            app.Map("/setcookie-redirect", (HttpContext c) =>
            {
                c.Response.Headers.Append("Set-Cookie", "hopa=1; Path=/");
                c.Response.StatusCode = 302;
                c.Response.Headers.Location = "/echo";
                return Task.CompletedTask;
            });
        });
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private static async Task<(ClientResponse Response, JsonElement Echo)> Send(ClientSession s, string method, string url, RequestOptions? o = null)
    {
        var r = await s.Request(method, url, o);
        var echo = r.ContentType == "application/json" ? await r.Json<JsonElement>() : default;
        return (r, echo);
    }

    private static string? Header(JsonElement echo, string name) =>
        echo.GetProperty("headers").TryGetProperty(name, out var v) ? v.GetString() : null;

    [TestCase(301, "GET", "GET", false)]
    [TestCase(301, "POST", "GET", false)]
    [TestCase(301, "PUT", "PUT", true)]
    [TestCase(302, "GET", "GET", false)]
    [TestCase(302, "POST", "GET", false)]
    [TestCase(302, "DELETE", "DELETE", false)]
    [TestCase(303, "POST", "GET", false)]
    [TestCase(303, "PUT", "GET", false)]
    [TestCase(303, "GET", "GET", false)]
    [TestCase(307, "POST", "POST", true)]
    [TestCase(307, "PUT", "PUT", true)]
    [TestCase(308, "POST", "POST", true)]
    [TestCase(308, "PATCH", "PATCH", true)]
    public async Task Status_and_method_decide_the_next_method_and_body(int status, string method, string expectedMethod, bool keepsBody)
    {
        using var session = new ClientSession();
        var body = method is "GET" or "DELETE" ? null : "payload";
        var (r, echo) = await Send(session, method, _a.Url($"r/{status}"), new RequestOptions { Data = body });
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(echo.GetProperty("method").GetString(), Is.EqualTo(expectedMethod));
        Assert.That(echo.GetProperty("body").GetString(), Is.EqualTo(keepsBody ? "payload" : ""));
        if (!keepsBody) Assert.That(Header(echo, "Content-Type"), Is.Null, "the body's headers went with it");
        Assert.That(r.History.Select(h => h.Status), Is.EqualTo(new[] { status }));
        Assert.That(r.History[0].Method, Is.EqualTo(method));
    }

    [TestCase(303)]
    [TestCase(302)]
    public async Task A_post_turned_get_loses_every_content_specific_header(int status)
    {
        using var session = new ClientSession();
        var (r, echo) = await Send(session, "POST", _a.Url($"r/{status}"), new RequestOptions
        {
            Data = "payload",
            Headers = new Dictionary<string, string>
            {
                ["Content-Encoding"] = "identity", ["Content-Language"] = "en", ["Content-Location"] = "/draft",
                ["Digest"] = "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", ["Last-Modified"] = "Tue, 15 Nov 1994 12:45:26 GMT",
                ["X-Keep"] = "yes",
            },
        });
        Assert.That(echo.GetProperty("method").GetString(), Is.EqualTo("GET"));
        Assert.Multiple(() =>
        {
            foreach (var name in new[] { "Content-Encoding", "Content-Language", "Content-Location", "Digest", "Last-Modified", "Content-Type", "Content-Length" })
                Assert.That(Header(echo, name), Is.Null, name + " described the body that was dropped (RFC 9110 §15.4)");
            Assert.That(Header(echo, "X-Keep"), Is.EqualTo("yes"));
        });
        Assert.That(r.History[0].RequestInfo.Headers.Get("Content-Language"), Is.EqualTo("en"), "the POST had them");
    }

    [Test]
    public async Task A_callers_expect_100_continue_does_not_go_on_to_the_get_without_content()
    {
        using var session = new ClientSession();
        var (r, echo) = await Send(session, "POST", _a.Url("r/303"), new RequestOptions
        {
            Data = "payload",
            Headers = new Dictionary<string, string> { ["Expect"] = "100-continue" },
        });
        Assert.That(echo.GetProperty("method").GetString(), Is.EqualTo("GET"));
        Assert.That(Header(echo, "Expect"), Is.Null, "RFC 9110 §10.1.1: no 100-continue without content");
        Assert.That(r.History[0].RequestInfo.Headers.Get("Expect"), Is.EqualTo("100-continue"));
    }

    [Test]
    public async Task Head_303_stays_head_and_head_does_not_follow_by_default()
    {
        using var session = new ClientSession();
        var notFollowed = await session.Head(_a.Url("r/303"));
        Assert.That(notFollowed.Status, Is.EqualTo(303));
        var followed = await session.Head(_a.Url("r/303"), new RequestOptions { AllowRedirects = true });
        Assert.That(followed.Status, Is.EqualTo(200));
        Assert.That(followed.Method, Is.EqualTo("HEAD"));
    }

    [Test]
    public async Task A_stream_body_cannot_follow_307()
    {
        using var session = new ClientSession();
        var payload = new OneShotPayload();
        var e = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Post(_a.Url("r/307"), new RequestOptions { Data = payload }));
        Assert.That(e!.Message, Does.Contain("cannot be sent twice"));
    }

    [Test]
    public async Task Loop_raises_TooManyRedirects_with_the_history()
    {
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<TooManyRedirects>(async () => await session.Get(_a.Url("loop"), new RequestOptions { MaxRedirects = 3 }));
        Assert.That(e!.History, Has.Count.EqualTo(4));
        Assert.That(e.Status, Is.EqualTo(302));
        var ok = await session.Get(_a.Url("redirect/3"), new RequestOptions { MaxRedirects = 3 });
        Assert.That(ok.History, Has.Count.EqualTo(3), "exactly MaxRedirects hops are allowed");
        await Task.CompletedTask;
    }

    [Test]
    public async Task Missing_location_makes_the_3xx_final_and_allow_false_stops()
    {
        using var session = new ClientSession();
        Assert.That((await session.Get(_a.Url("nolocation"))).Status, Is.EqualTo(302));
        Assert.That((await session.Get(_a.Url("r/302"), new RequestOptions { AllowRedirects = false })).Status, Is.EqualTo(302));
    }

    [Test]
    public async Task An_empty_location_makes_the_3xx_final_instead_of_a_loop()
    {
        await using var server = RawServer.Respond("HTTP/1.1 302 Found\r\nLocation: \r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        var r = await session.Get(server.Url("/start"));
        Assert.That(r.Status, Is.EqualTo(302));
        Assert.That(server.Requests, Has.Count.EqualTo(1), "the same URL was not requested again");

        await using var ws = RawServer.Respond("HTTP/1.1 302 Found\r\nLocation: \r\nContent-Length: 0\r\n\r\n");
        var e = Assert.ThrowsAsync<WsServerHandshakeError>(async () => await session.WsConnectAsync(ws.Url("/start").Replace("http", "ws")));
        Assert.That(e!.Status, Is.EqualTo(302));
        Assert.That(ws.Requests, Has.Count.EqualTo(1), "the handshake was not sent again either");
    }

    [Test]
    public async Task A_location_without_a_fragment_inherits_the_requests()
    {
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
                await c.WriteAsync(request.StartsWith("GET /a ") ? "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n"
                    : request.StartsWith("GET /b ") ? "HTTP/1.1 301 Moved Permanently\r\nLocation: /c?x=1\r\nContent-Length: 0\r\n\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        });
        using var session = new ClientSession();
        var r = await session.Get(server.Url("/a#top"));
        Assert.That(r.RealUrl.ToString(), Is.EqualTo(server.Url("/c?x=1#top")), "RFC 9110 §10.2.2, over every hop");
        Assert.That(r.History.Select(h => h.RealUrl.ToString()), Is.EqualTo(new[] { server.Url("/a#top"), server.Url("/b#top") }));
        Assert.That(r.Url.ToString(), Is.EqualTo(server.Url("/c?x=1")));
        Assert.That(server.Requests.Select(q => q.Split("\r\n")[0]), Is.EqualTo(new[] { "GET /a HTTP/1.1", "GET /b HTTP/1.1", "GET /c?x=1 HTTP/1.1" }), "never sent");
    }

    [Test]
    public async Task A_callers_host_header_stays_with_its_host()
    {
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
                await c.WriteAsync(request.StartsWith("GET /other ") ? $"HTTP/1.1 302 Found\r\nLocation: http://back.test:{((System.Net.IPEndPoint)c.Socket.LocalEndPoint!).Port}/end\r\nContent-Length: 0\r\n\r\n"
                    : request.StartsWith("GET /same ") ? "HTTP/1.1 307 Temporary Redirect\r\nLocation: /end\r\nContent-Length: 0\r\n\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        });
        var connector = new TcpConnector(new TcpConnectorOptions { Resolver = new RxHttp.Tests.Connectors.FakeResolver(System.Net.IPAddress.Loopback) });
        using var session = new ClientSession(new ClientSessionOptions { Connector = connector });
        var options = new RequestOptions { Headers = new Dictionary<string, string> { ["Host"] = "vhost.test" } };
        string HostOf(string request) => request.Split("\r\n").Single(l => l.StartsWith("Host:", StringComparison.OrdinalIgnoreCase))[5..].Trim();

        await session.Get($"http://front.test:{server.Port}/same", options);
        Assert.That(server.Requests.Select(HostOf), Is.EqualTo(new[] { "vhost.test", "vhost.test" }), "the same host keeps it");

        server.Requests.Clear();
        await session.Get($"http://front.test:{server.Port}/other", options);
        Assert.That(server.Requests.Select(HostOf), Is.EqualTo(new[] { "vhost.test", $"back.test:{server.Port}" }), "another host gets its own");
    }

    [TestCase("ftp://example.com/x", typeof(NonHttpUrlRedirectClientError))]
    [TestCase("http://[bad", typeof(InvalidUrlRedirectClientError))]
    [TestCase("http://a%3Ab:pw@127.0.0.1:1/x", typeof(InvalidUrlRedirectClientError))]
    public async Task Bad_locations_raise_typed_errors(string location, Type error)
    {
        using var session = new ClientSession();
        var e = Assert.CatchAsync<InvalidUrl>(async () => await session.Get(_a.Url("r/302?to=" + Uri.EscapeDataString(location))));
        Assert.That(e, Is.TypeOf(error));
        await Task.CompletedTask;
    }

    [Test]
    public async Task Cross_origin_hop_drops_credentials_and_request_cookies()
    {
        using var session = new ClientSession(new ClientSessionOptions { CookieJar = new CookieJar(allowIpHosts: true) });
        var target = _b.Url("echo");
        var (r, echo) = await Send(session, "GET", _a.Url("r/302?to=" + Uri.EscapeDataString(target)), new RequestOptions
        {
            Auth = new BasicAuth("user", "pass"),
            Cookies = new Dictionary<string, string> { ["mine"] = "1" },
            Headers = new Dictionary<string, string> { ["Proxy-Authorization"] = "Basic eA==", ["X-Keep"] = "yes" },
        });
        Assert.That(r.Url.Port, Is.EqualTo(_b.Port));
        Assert.Multiple(() =>
        {
            Assert.That(Header(echo, "Authorization"), Is.Null);
            Assert.That(Header(echo, "Cookie"), Is.Null);
            Assert.That(Header(echo, "Proxy-Authorization"), Is.Null);
            Assert.That(Header(echo, "X-Keep"), Is.EqualTo("yes"));
        });
        Assert.That(r.History[0].RequestInfo.Headers.Get("Authorization"), Is.EqualTo(new BasicAuth("user", "pass").Encode()), "the first hop had them");
        Assert.That(r.History[0].RequestInfo.Headers.Get("Cookie"), Is.EqualTo("mine=1"));
    }

    [Test]
    public async Task Same_origin_hop_keeps_credentials_and_credentials_in_the_location_are_used()
    {
        using var session = new ClientSession();
        var (_, same) = await Send(session, "GET", _a.Url("r/302"), new RequestOptions { Auth = new BasicAuth("user", "pass") });
        Assert.That(Header(same, "Authorization"), Is.EqualTo(new BasicAuth("user", "pass").Encode()));

        var withCreds = $"http://other:secret@127.0.0.1:{_b.Port}/echo";
        var (r, echo) = await Send(session, "GET", _a.Url("r/302?to=" + Uri.EscapeDataString(withCreds)));
        Assert.That(Header(echo, "Authorization"), Is.EqualTo(new BasicAuth("other", "secret").Encode()));
        Assert.That(r.Url.User, Is.Null, "credentials never show up in the URL sent or reported");
    }

    [TestCase("absolute")]
    [TestCase("scheme-relative")]
    [TestCase("relative")]
    public async Task Url_credentials_follow_a_same_origin_hop_whatever_the_location_form(string form)
    {
        using var session = new ClientSession();
        var location = form switch
        {
            "absolute" => _a.Url("echo"),
            "scheme-relative" => $"//127.0.0.1:{_a.Port}/echo",
            _ => "/echo",
        };
        var (r, echo) = await Send(session, "GET", $"http://user:pass@127.0.0.1:{_a.Port}/r/302?to={Uri.EscapeDataString(location)}");
        Assert.That(Header(echo, "Authorization"), Is.EqualTo(new BasicAuth("user", "pass").Encode()));
        Assert.That(r.Url.User, Is.Null, "still never in the URL sent or reported");
        Assert.That(r.RealUrl.User, Is.Null);
    }

    [Test]
    public async Task Every_hop_stores_its_cookies_and_response_cookies_are_its_own()
    {
        var jar = new CookieJar(allowIpHosts: true);
        using var session = new ClientSession(new ClientSessionOptions { CookieJar = jar });
        var (r, echo) = await Send(session, "GET", _a.Url("setcookie-redirect"), new RequestOptions { Cookies = new Dictionary<string, string> { ["once"] = "x" } });
        Assert.That(r.History[0].Cookies, Is.EqualTo(new Dictionary<string, string> { ["hopa"] = "1" }));
        Assert.That(r.Cookies, Is.Empty);
        Assert.That(Header(echo, "Cookie"), Is.EqualTo("hopa=1; once=x"), "the second hop sends the cookie the first hop set");
        Assert.That(jar.Select(c => c.Name), Is.EquivalentTo(new[] { "hopa" }), "per-request cookies are not stored");
    }

    private sealed class OneShotPayload : Payload
    {
        public override long? Length => 11;
        public override ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken) =>
            writer.WriteAsync("stream body"u8.ToArray(), cancellationToken);
    }
}
