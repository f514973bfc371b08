using System.Reactive.Linq;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Content;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Pipeline;

[TestFixture]
public class AuthTests
{
    private KestrelServer _server = null!;
    private int _digestHits;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.MapGet("/basic", (HttpContext c) =>
            c.Request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.Latin1.GetBytes("alice:s3cr\u00e9t"))
                ? Results.Text("welcome")
                : Results.StatusCode(401));
        app.MapGet("/digest/{algorithm}", (HttpContext c, string algorithm) =>
        {
            Interlocked.Increment(ref _digestHits);
            var header = c.Request.Headers.Authorization.ToString();
            if (DigestCheck.Accepts(header, "GET", "bob", "test@rx", "hunter2", algorithm)) return Results.Text("digest ok");
            c.Response.Headers.WWWAuthenticate = DigestCheck.Challenge("test@rx", algorithm, $"n0nce-{algorithm}");
            return Results.StatusCode(401);
        });
        app.MapPost("/digest-post", async (HttpContext c) =>
        {
            Interlocked.Increment(ref _digestHits);
            var body = await new StreamReader(c.Request.Body).ReadToEndAsync();
            if (DigestCheck.Accepts(c.Request.Headers.Authorization.ToString(), "POST", "bob", "test@rx", "hunter2", "MD5")) return Results.Text("got " + body);
            c.Response.Headers.WWWAuthenticate = DigestCheck.Challenge("test@rx", "MD5", "n0nce-post");
            return Results.StatusCode(401);
        });
        // Checks the credentials before it reads the body, so Kestrel sends no 100 Continue to a request it refuses.
        app.MapPost("/digest-expect", async (HttpContext c) =>
        {
            if (!DigestCheck.Accepts(c.Request.Headers.Authorization.ToString(), "POST", "bob", "test@rx", "hunter2", "MD5"))
            {
                c.Response.Headers.WWWAuthenticate = DigestCheck.Challenge("test@rx", "MD5", "n0nce-expect");
                return Results.StatusCode(401);
            }
            return Results.Text("got " + await new StreamReader(c.Request.Body).ReadToEndAsync());
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Request_basic_auth_is_sent_with_its_encoding()
    {
        using var session = new ClientSession();
        var ok = await session.Get(_server.Url("basic"), new RequestOptions { Auth = new BasicAuth("alice", "s3cr\u00e9t") });
        Assert.That(ok.Status, Is.EqualTo(200));
        var utf8 = await session.Get(_server.Url("basic"), new RequestOptions { Auth = new BasicAuth("alice", "s3cr\u00e9t", Encoding.UTF8) });
        Assert.That(utf8.Status, Is.EqualTo(401), "a different encoding gives different bytes");
    }

    [Test]
    public async Task Session_basic_auth_goes_only_to_the_base_origin()
    {
        await using var other = await KestrelServer.StartAsync();
        using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { Auth = new BasicAuth("alice", "s3cr\u00e9t") });
        Assert.That((await session.Get("basic")).Status, Is.EqualTo(200));
        var echo = await session.Get(other.Url("echo")).SelectMany(r => r.Text());
        Assert.That(echo, Does.Not.Contain("Authorization"));
    }

    [Test]
    public async Task Url_credentials_are_sent_and_cannot_be_combined_with_auth()
    {
        using var session = new ClientSession();
        var url = $"http://alice:s3cr%C3%A9t@127.0.0.1:{_server.Port}/echo";
        var text = await session.Get(url).SelectMany(r => r.Text());
        Assert.That(text, Does.Contain("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cr\u00e9t"))));
        Assert.ThrowsAsync<ArgumentException>(async () => await session.Get(url, new RequestOptions { Auth = new BasicAuth("x") }));
        Assert.Throws<ArgumentException>(() => new BasicAuth("a:b"));
    }

    [Test]
    public void Credentials_the_encoding_cannot_carry_are_refused_rather_than_sent_as_question_marks()
    {
        var e = Assert.Throws<ArgumentException>(() => new BasicAuth("bob", "\u043f\u0430\u0440\u043e\u043b\u044c"));
        Assert.That(e!.ParamName, Is.EqualTo("password"));
        Assert.That(Assert.Throws<ArgumentException>(() => new BasicAuth("\u0431\u043e\u0431"))!.ParamName, Is.EqualTo("login"));
        Assert.That(Assert.Throws<ArgumentException>(() => new BasicAuth("bob", "\ud800", Encoding.UTF8))!.ParamName, Is.EqualTo("password"), "a lone surrogate");
        Assert.That(new BasicAuth("bob", "\u043f\u0430\u0440\u043e\u043b\u044c", Encoding.UTF8).Encode(),
            Is.EqualTo("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:\u043f\u0430\u0440\u043e\u043b\u044c"))));
        byte[] latin1 = [.. "bob:s3cr"u8, 0xE9, (byte)'t'];
        Assert.That(new BasicAuth("bob", "s3cr\u00e9t").Encode(), Is.EqualTo("Basic " + Convert.ToBase64String(latin1)), "U+00E9 is Latin-1's byte E9");
    }

    [Test]
    public void Basic_auth_round_trips()
    {
        var auth = new BasicAuth("user", "p:w");
        Assert.That(auth.Encode(), Is.EqualTo("Basic dXNlcjpwOnc="));
        Assert.That(BasicAuth.Decode(auth.Encode()), Is.EqualTo(auth));
        Assert.That(BasicAuth.Decode("Bearer x"), Is.Null);
    }

    // The RFC prints ...eaf9a6b for MD5; erratum 4897 corrects it to ...eebdbec, which is what the formula gives.
    [TestCase("MD5", "8ca523f5e9506fed4657c9700eebdbec")]
    [TestCase("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")]
    public void Digest_matches_the_RFC_7616_examples(string algorithm, string expected)
    {
        var challenge = DigestAuth.Parse(new[]
        {
            $"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={algorithm}, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
        }, "http://example.org")!;
        var header = new DigestAuth("Mufasa", "Circle of Life").Answer(challenge, "GET", "/dir/index.html", 1, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
        Assert.That(header, Does.Contain($"response=\"{expected}\""));
        Assert.That(header, Does.Contain("nc=00000001").And.Contain("qop=auth").And.Contain("opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""));
    }

    [TestCase("MD5")]
    [TestCase("SHA-256")]
    [TestCase("MD5-sess")]
    [TestCase("SHA-256-sess")]
    public async Task Digest_answers_the_401_challenge_once(string algorithm)
    {
        var digest = new DigestAuth("bob", "hunter2");
        using var session = new ClientSession(new ClientSessionOptions { Middlewares = new[] { digest.Middleware } });
        var before = Volatile.Read(ref _digestHits);
        var r = await session.Get(_server.Url($"digest/{algorithm}"));
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(await r.Text(), Is.EqualTo("digest ok"));
        Assert.That(Volatile.Read(ref _digestHits) - before, Is.EqualTo(2), "challenge, then the answer");

        var wrong = new DigestAuth("bob", "wrong");
        before = Volatile.Read(ref _digestHits);
        var denied = await session.Get(_server.Url($"digest/{algorithm}"), new RequestOptions { Middlewares = new[] { wrong.Middleware } });
        Assert.That(denied.Status, Is.EqualTo(401));
        Assert.That(Volatile.Read(ref _digestHits) - before, Is.EqualTo(2), "retried once only");
    }

    [Test]
    public void Requests_that_met_the_same_challenge_at_once_answer_with_their_own_nonce_counts()
    {
        var challenged = new List<System.Reactive.Subjects.AsyncSubject<ClientResponse>>();
        var answers = new List<string>();
        IObservable<ClientResponse> Next(ClientRequest r)
        {
            if (r.Headers.Get("Authorization") is { } answer)
            {
                answers.Add(answer);
                return Observable.Return(Marble.Head(r.Url.ToString(), 200));
            }
            var pending = new System.Reactive.Subjects.AsyncSubject<ClientResponse>();
            challenged.Add(pending);
            return pending;
        }
        var digest = new DigestAuth("bob", "hunter2", cnonce: () => "c0ffee");
        var statuses = new List<int>();
        // Both go out before any challenge is known, so both meet the 401; the second 401 arrives after the first answer.
        using var a = digest.Handle(new ClientRequest("GET", Url.Parse("http://h/a")), Next).Subscribe(r => statuses.Add(r.Status));
        using var b = digest.Handle(new ClientRequest("GET", Url.Parse("http://h/b")), Next).Subscribe(r => statuses.Add(r.Status));
        Assert.That(challenged, Has.Count.EqualTo(2));
        foreach (var pending in challenged)
        {
            pending.OnNext(Marble.Head("http://h/", 401, ("WWW-Authenticate", DigestCheck.Challenge("test@rx", "MD5", "same-nonce"))));
            pending.OnCompleted();
        }

        Assert.That(statuses, Is.EqualTo(new[] { 200, 200 }));
        Assert.That(answers.Select(h => System.Text.RegularExpressions.Regex.Match(h, "nc=([0-9a-f]{8})").Groups[1].Value),
            Is.EqualTo(new[] { "00000001", "00000002" }), "one nonce, two answers: two counts (RFC 7616 §3.4)");
        using var c = digest.Handle(new ClientRequest("GET", Url.Parse("http://h/c")), Next).Subscribe(r => statuses.Add(r.Status));
        Assert.That(answers[^1], Does.Contain("nc=00000003"), "and the next preemptive answer goes on counting");
    }

    [Test]
    public async Task Digest_does_not_answer_with_a_stream_body_it_already_sent()
    {
        var digest = new DigestAuth("bob", "hunter2");
        using var session = new ClientSession(new ClientSessionOptions { Middlewares = new[] { digest.Middleware } });
        var replayable = await session.Post(_server.Url("digest-post"), new RequestOptions { Data = "payload" }).SelectMany(r => r.Text());
        Assert.That(replayable, Is.EqualTo("got payload"), "a body that can be sent twice is sent with the answer");

        var fresh = new DigestAuth("bob", "hunter2");
        var before = Volatile.Read(ref _digestHits);
        var e = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Post(_server.Url("digest-post"), new RequestOptions
        {
            Data = new NonSeekableStream("payload"u8.ToArray()),
            Middlewares = new[] { fresh.Middleware },
        }));
        Assert.That(e!.Message, Does.Contain("cannot be sent twice"));
        Assert.That(Volatile.Read(ref _digestHits) - before, Is.EqualTo(1), "no answer went out with an empty body");
    }

    // Expect: 100-continue is for this: the challenge comes before the body goes, so a one-shot body is still whole.
    [Test]
    public async Task Digest_answers_with_a_stream_body_that_waited_for_100_continue_and_never_went_out()
    {
        var digest = new DigestAuth("bob", "hunter2");
        using var session = new ClientSession();
        var text = await session.Post(_server.Url("digest-expect"), new RequestOptions
        {
            Data = new NonSeekableStream("payload"u8.ToArray()),
            Expect100 = true,
            Middlewares = new[] { digest.Middleware },
        }).SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo("got payload"));
    }
}
