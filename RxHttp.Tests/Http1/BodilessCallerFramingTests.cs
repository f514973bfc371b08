using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Http1;

/// <summary>
/// A request without a body whose caller framed it anyway (<c>Transfer-Encoding: chunked</c> or a numeric
/// <c>Content-Length</c> in its headers) went out as its head alone: the server, told a body follows, waited for chunks
/// or bytes that never came, and the request hung until a timeout. The chunked one now ends with its last chunk (an
/// empty chunked body), and a Content-Length above 0 fails with <see cref="ClientPayloadError"/> before anything is
/// sent, as a body shorter than its Content-Length does. HttpClient refuses chunked without content before sending;
/// aiohttp sends the head alone and hangs.
/// </summary>
[TestFixture]
public class BodilessCallerFramingTests
{
    private const string Script = """
from aiohttp import web

async def echo(request):
    body = await request.read()
    return web.Response(text=f"{request.method} {len(body)} {request.headers.get('Transfer-Encoding')}")

def make_app():
    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    return app
""";

    private static readonly ClientTimeout Short = new() { SockRead = TimeSpan.FromSeconds(5) };

    [TestCase("POST")]
    [TestCase("GET")]
    public async Task A_callers_chunked_on_a_bodiless_request_sends_an_empty_chunked_body(string method)
    {
        using var server = await AiohttpScriptServer.StartAsync(Script, "bodiless-chunked");
        using var session = new ClientSession();
        var options = new RequestOptions { Headers = new Dictionary<string, string> { ["Transfer-Encoding"] = "chunked" }, Timeout = Short };
        for (var i = 0; i < 2; i++) // the second on the same connection: nothing was left on it
        {
            var text = await session.Request(method, server.BaseUrl + "echo", options).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20));
            Assert.That(text, Is.EqualTo($"{method} 0 chunked"));
        }
    }

    [TestCase("POST", "5")]
    [TestCase("GET", "1")]
    public async Task A_callers_Content_Length_on_a_bodiless_request_fails_before_anything_is_sent(string method, string length)
    {
        var received = 0;
        await using var server = new RawServer(async c =>
        {
            var buffer = new byte[1024];
            int n;
            while ((n = await c.Socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None)) > 0) Interlocked.Add(ref received, n);
        });
        using var session = new ClientSession();
        var options = new RequestOptions { Headers = new Dictionary<string, string> { ["Content-Length"] = length }, Timeout = Short };
        var error = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Request(method, server.Url(), options).Timeout(TimeSpan.FromSeconds(20)));
        Assert.That(error!.Message, Does.Contain($"announces {length} bytes"));
        Assert.That(Volatile.Read(ref received), Is.Zero);
    }

    [Test]
    public async Task A_callers_Content_Length_0_on_a_bodiless_request_is_sent_as_it_is()
    {
        using var server = await AiohttpScriptServer.StartAsync(Script, "bodiless-length");
        using var session = new ClientSession();
        var options = new RequestOptions { Headers = new Dictionary<string, string> { ["Content-Length"] = "0" }, Timeout = Short };
        var text = await session.Post(server.BaseUrl + "echo", options).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20));
        Assert.That(text, Is.EqualTo("POST 0 None"));
    }
}
