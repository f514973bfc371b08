using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// Cookies on the exchanges a middleware makes inside one hop: a Digest server that binds its nonce to a session cookie
/// (Flask-HTTPAuth's default) sets it on the 401 and wants it back with the answer, as HttpClient, requests and curl send it.
/// </summary>
[TestFixture]
public class MiddlewareCookieTests
{
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.MapGet("/session-digest", (HttpContext c) =>
        {
            var session = c.Request.Cookies["session"];
            if (session is not null && DigestCheck.Accepts(c.Request.Headers.Authorization.ToString(), "GET", "bob", "test@rx", "hunter2", "MD5")
                && c.Request.Headers.Authorization.ToString().Contains($"nonce=\"n-{session}\"", StringComparison.Ordinal))
                return Results.Text("welcome " + c.Request.Headers.Cookie);
            var fresh = Guid.NewGuid().ToString("N");
            c.Response.Headers.Append("Set-Cookie", $"session={fresh}; Path=/; HttpOnly");
            c.Response.Headers.WWWAuthenticate = DigestCheck.Challenge("test@rx", "MD5", $"n-{fresh}");
            return Results.StatusCode(401);
        });
        app.MapGet("/flaky", (HttpContext c) =>
        {
            if (c.Request.Cookies["ticket"] == "t1") return Results.Text("ok " + c.Request.Headers.Cookie);
            c.Response.Headers.Append("Set-Cookie", "ticket=t1; Path=/");
            return Results.StatusCode(503);
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Digest_answer_carries_the_cookie_its_challenge_set_and_the_jar_keeps_it()
    {
        var jar = new CookieJar(allowIpHosts: true);
        using var session = new ClientSession(new ClientSessionOptions
        {
            CookieJar = jar,
            Middlewares = new[] { new DigestAuth("bob", "hunter2").Middleware },
        });
        using var r = await session.Get(_server.Url("session-digest"), new RequestOptions { Cookies = new Dictionary<string, string> { ["mine"] = "1" } });
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(await r.Text(), Does.StartWith("welcome session=").And.Contains("mine=1"));
        Assert.That(jar.Select(c => c.Name), Is.EquivalentTo(new[] { "session" }));
    }

    [Test]
    public async Task A_retry_sends_the_cookie_the_failed_attempt_set()
    {
        var jar = new CookieJar(allowIpHosts: true);
        using var session = new ClientSession(new ClientSessionOptions
        {
            CookieJar = jar,
            Middlewares = new[] { RetryOperator.Middleware(new RetryOptions { MaxAttempts = 2, BaseDelay = TimeSpan.Zero, Jitter = 0 }) },
        });
        using var r = await session.Get(_server.Url("flaky"), new RequestOptions { Headers = new Dictionary<string, string> { ["Cookie"] = "own=x" } });
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(await r.Text(), Is.EqualTo("ok own=x; ticket=t1"));
    }

    [Test]
    public async Task A_middleware_sees_the_jar_cookies_and_its_own_Cookie_header_is_left_alone()
    {
        var jar = new CookieJar(allowIpHosts: true);
        jar.UpdateCookies(new[] { "ticket=t1; Path=/" }, new Uri(_server.Url("x")));
        string? seen = null;
        using var session = new ClientSession(new ClientSessionOptions
        {
            CookieJar = jar,
            Middlewares = new Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>>[]
            {
                (request, next) =>
                {
                    seen = request.Headers.Get("Cookie");
                    var headers = request.Headers.Clone();
                    headers.Set("Cookie", "ticket=t1; extra=2");
                    return next(request.With(headers: headers));
                },
            },
        });
        using var r = await session.Get(_server.Url("flaky"));
        Assert.That(seen, Is.EqualTo("ticket=t1"));
        Assert.That(await r.Text(), Is.EqualTo("ok ticket=t1; extra=2"));
    }
}
