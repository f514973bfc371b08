using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// DigestAuth against a Digest check written in Python (hashlib, urllib.parse) run by /usr/bin/python3 with
/// aiohttp's server, so the answers are judged by code that shares nothing with the library's: several challenges
/// (the strongest must be taken), userhash=true and a user name that is not ASCII (RFC 7616 §3.4.4, RFC 8187).
/// </summary>
[TestFixture]
public class DigestInteropTests
{
    private const string Script = """
import asyncio, hashlib, re, urllib.parse
from aiohttp import web

USERS = {"bob": "hunter2", "J\u00e4s\u00f8n Doe": "Secret, or not?"}
REALM = "api@example.org"
H = {"MD5": lambda s: hashlib.md5(s.encode()).hexdigest(), "SHA-256": lambda s: hashlib.sha256(s.encode()).hexdigest()}

def challenge(alg, nonce, extra=""):
    return f'Digest realm="{REALM}", qop="auth", algorithm={alg}, nonce="{nonce}", opaque="op"{extra}'

def params(header):
    return {k: (q if q else v) for k, q, v in re.findall(r'([\w*]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', header)}

def user_of(p, alg, userhash):
    if userhash:
        if p.get("userhash") != "true": return None
        return next((u for u in USERS if H[alg](f"{u}:{REALM}") == p.get("username")), None)
    if "username*" in p:
        if "username" in p: return None  # RFC 7616: never both
        charset, _, value = p["username*"].split("'", 2)
        return urllib.parse.unquote(value, encoding=charset) if charset.upper() == "UTF-8" else None
    return p.get("username")

def check(request, alg, userhash):
    header = request.headers.get("Authorization", "")
    # A header is ASCII on the wire (RFC 9110 §5.5): raw UTF-8 in a quoted-string is not a user name.
    if not header.startswith("Digest ") or not header.isascii(): return None
    p = params(header[7:])
    user = user_of(p, alg, userhash)
    if user not in USERS or p.get("algorithm") != alg or p.get("qop") != "auth" or p.get("opaque") != "op": return None
    h = H[alg]
    ha1 = h(f"{user}:{REALM}:{USERS[user]}")
    ha2 = h(f"{request.method}:{p['uri']}")
    expected = h(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
    return user if p.get("response") == expected and p["uri"] == request.path_qs else None

def route(offers, alg, userhash=False, joined=False):
    async def handler(request):
        user = check(request, alg, userhash)
        if user is not None: return web.Response(text=user)
        headers = [("WWW-Authenticate", ", ".join(offers))] if joined else [("WWW-Authenticate", o) for o in offers]
        return web.Response(status=401, headers=headers)
    return handler

def make_app():
    app = web.Application()
    weak_first = [challenge("MD5", "n-md5"), challenge("SHA-256", "n-sha")]
    app.router.add_get("/strongest", route(weak_first, "SHA-256"))
    app.router.add_get("/strongest-joined", route(['Basic realm="x"'] + weak_first, "SHA-256", joined=True))
    app.router.add_get("/userhash", route([challenge("SHA-256", "n-uh", ', userhash=true, charset=UTF-8')], "SHA-256", userhash=True))
    app.router.add_get("/plain", route([challenge("MD5", "n-plain", ', charset=UTF-8')], "MD5"))
    return app
""";

    private AiohttpScriptServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await AiohttpScriptServer.StartAsync(Script, "digest");

    [OneTimeTearDown]
    public void Stop() => _server?.Dispose();

    private async Task<(int Status, string Body)> Get(string path, string user, string password)
    {
        var digest = new DigestAuth(user, password);
        using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { Middlewares = new[] { digest.Middleware } });
        using var r = await session.Get(path);
        return (r.Status, await r.Text());
    }

    [TestCase("strongest")]
    [TestCase("strongest-joined")]
    public async Task The_strongest_of_several_challenges_is_answered(string path) =>
        Assert.That(await Get(path, "bob", "hunter2"), Is.EqualTo((200, "bob")), "MD5 listed first, SHA-256 second: answer SHA-256");

    [Test]
    public async Task A_server_offering_userhash_gets_the_hashed_user_name() =>
        Assert.That(await Get("userhash", "J\u00e4s\u00f8n Doe", "Secret, or not?"), Is.EqualTo((200, "J\u00e4s\u00f8n Doe")));

    [Test]
    public async Task A_user_name_that_is_not_ascii_goes_as_username_star() =>
        Assert.That(await Get("plain", "J\u00e4s\u00f8n Doe", "Secret, or not?"), Is.EqualTo((200, "J\u00e4s\u00f8n Doe")));

    [Test]
    public async Task An_ascii_user_name_stays_a_quoted_username() =>
        Assert.That(await Get("plain", "bob", "hunter2"), Is.EqualTo((200, "bob")));

    [Test]
    public void The_RFC_7616_username_star_example_is_encoded_as_printed()
    {
        var challenge = DigestAuth.Parse(new[] { "Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-256, nonce=\"n\", charset=UTF-8" }, "http://h")!;
        var header = new DigestAuth("J\u00e4s\u00f8n Doe", "Secret, or not?").Answer(challenge, "GET", "/doe.json", 1, "c");
        Assert.That(header, Does.StartWith("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=").And.Not.Contain("username=\""), "RFC 7616 §3.9.2");
    }
}
