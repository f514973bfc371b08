using System.Net.Sockets;
using System.Reactive.Linq;
using System.Security.Cryptography;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// A request observable is cold, and every subscription built a new payload from <c>Data</c>: for a seekable stream
/// one that starts where the stream stands then. The first send leaves it at its end (or wherever a failed upload
/// stopped reading), so a second subscription, Rx's <c>Retry()</c> after a refused answer or after a reset mid-upload,
/// sent <c>Content-Length: 0</c> or the rest of the stream, an upload that succeeds with the body lost or cut.
/// The body is now the stream from where it stood when the request was made (the verb call), as HttpClient's
/// <c>StreamContent</c> keeps the position it was created at, and every subscription rewinds to it.
/// </summary>
[TestFixture]
public class SeekableStreamResubscribeTests
{
    private const string Script = """
import hashlib
from aiohttp import web

seen = {"n": 0}

async def echo(request):
    body = await request.read()
    return web.Response(text=f"{len(body)} {hashlib.sha256(body).hexdigest().upper()}")

async def refuse_first(request):
    body = await request.read()
    seen["n"] += 1
    if seen["n"] == 1:
        return web.Response(status=503, text="again")
    return web.Response(text=f"{len(body)} {hashlib.sha256(body).hexdigest().upper()}")

async def form(request):
    data = await request.post()
    out = []
    for k, v in data.items():
        body = v.file.read() if isinstance(v, web.FileField) else v.encode()
        out.append(f"{k}={len(body)} {hashlib.sha256(body).hexdigest().upper()}")
    return web.Response(text="; ".join(out))

def make_app():
    app = web.Application()
    app.router.add_post("/echo", echo)
    app.router.add_post("/refuse-first", refuse_first)
    app.router.add_post("/form", form)
    return app
""";

    private static byte[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 31 + 7)).ToArray();

    private static string Expected(byte[] data, int from) => $"{data.Length - from} {Convert.ToHexString(SHA256.HashData(data.AsSpan(from)))}";

    [Test]
    public async Task Each_subscription_sends_the_stream_from_where_it_stood_when_the_request_was_made()
    {
        using var server = await AiohttpScriptServer.StartAsync(Script, "stream-resubscribe");
        using var session = new ClientSession();
        var data = Pattern(100_000);
        var stream = new MemoryStream(data) { Position = 3 };
        var post = session.Post(server.BaseUrl + "echo", new RequestOptions { Data = stream });
        stream.Position = 10; // moved after the request was made: the request keeps its own start
        for (var i = 0; i < 3; i++)
            Assert.That(await post.SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo(Expected(data, 3)), $"subscription {i + 1}");
    }

    [Test]
    public async Task A_seekable_stream_among_form_fields_is_sent_whole_by_every_subscription()
    {
        using var server = await AiohttpScriptServer.StartAsync(Script, "stream-form-resubscribe");
        using var session = new ClientSession();
        var data = Pattern(70_000);
        var forms = new object[]
        {
            new Dictionary<string, object> { ["title"] = "t", ["file"] = new MemoryStream(data) },
            new[] { ("title", (object)"t"), ("file", new MemoryStream(data)) },
        };
        foreach (var fields in forms)
        {
            var post = session.Post(server.BaseUrl + "form", new RequestOptions { Data = fields });
            for (var i = 0; i < 2; i++)
                Assert.That(await post.SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)),
                    Is.EqualTo($"title=1 {Convert.ToHexString(SHA256.HashData("t"u8))}; file={Expected(data, 0)}"), $"{fields.GetType().Name}, subscription {i + 1}");
        }
    }

    [Test]
    public async Task Retry_after_a_refused_answer_sends_the_whole_stream_again()
    {
        using var server = await AiohttpScriptServer.StartAsync(Script, "stream-retry");
        using var session = new ClientSession();
        var data = Pattern(300_000);
        var text = await session.Post(server.BaseUrl + "refuse-first", new RequestOptions { Data = new MemoryStream(data), RaiseForStatus = true })
            .Retry(2)
            .SelectMany(r => r.Text())
            .Timeout(TimeSpan.FromSeconds(20));
        Assert.That(text, Is.EqualTo(Expected(data, 0)));
    }

    [Test]
    public async Task Retry_after_a_reset_mid_upload_sends_the_whole_stream_again()
    {
        var connections = 0;
        await using var server = new RawServer(async c =>
        {
            if (Interlocked.Increment(ref connections) == 1)
            {
                // Takes part of the body, then resets: the client had read well into the stream by then.
                var buffer = new byte[64 * 1024];
                var got = 0;
                while (got < 256 * 1024)
                {
                    var n = await c.Socket.ReceiveAsync(buffer, SocketFlags.None);
                    if (n == 0) return;
                    got += n;
                }
                c.Socket.LingerState = new LingerOption(true, 0);
                c.Socket.Close();
                return;
            }
            var request = await c.ReadRequestAsync();
            var body = System.Text.Encoding.Latin1.GetBytes(request![(request.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
            var answer = $"{body.Length} {Convert.ToHexString(SHA256.HashData(body))}";
            await c.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Length: {answer.Length}\r\n\r\n{answer}");
        });
        using var session = new ClientSession();
        var data = Pattern(8 << 20);
        var text = await session.Post(server.Url(), new RequestOptions { Data = new MemoryStream(data) })
            .Retry(2)
            .SelectMany(r => r.Text())
            .Timeout(TimeSpan.FromSeconds(30));
        Assert.That(text, Is.EqualTo(Expected(data, 0)));
        Assert.That(Volatile.Read(ref connections), Is.EqualTo(2));
    }
}
