using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>
/// aiohttp's session and request arguments RxHttp took over: skip_auto_headers (session), requote_redirect_url,
/// read_bufsize, read_until_eof; the Uri verbs; bad values failing when configured.
/// </summary>
[TestFixture]
public class AiohttpSessionOptionsTests : KestrelFixture
{
    private static string? Header(string request, string name) =>
        request.Split("\r\n").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();

    [Test]
    public async Task Session_SkipAutoHeaders_is_merged_with_the_requests_own()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession(new ClientSessionOptions { SkipAutoHeaders = new[] { "user-agent" } });
        await session.Get(server.Url()).Select(r => r.Status);
        await session.Get(server.Url(), new RequestOptions { SkipAutoHeaders = new[] { "Accept" } }).Select(r => r.Status);
        await session.Post(server.Url(), new RequestOptions { Data = "x", SkipAutoHeaders = new[] { "Content-Type" } }).Select(r => r.Status);
        Assert.That(Header(server.Requests[0], "User-Agent"), Is.Null, "the session skips it");
        Assert.That(Header(server.Requests[0], "Accept"), Is.EqualTo("*/*"));
        Assert.That(Header(server.Requests[1], "User-Agent"), Is.Null, "still skipped with the request's own list");
        Assert.That(Header(server.Requests[1], "Accept"), Is.Null);
        Assert.That(Header(server.Requests[2], "Content-Type"), Is.Null);
        Assert.That(Header(server.Requests[2], "User-Agent"), Is.Null);
        using var plain = new ClientSession();
        await plain.Get(server.Url()).Select(r => r.Status);
        Assert.That(Header(server.Requests[3], "User-Agent"), Does.StartWith("RxHttp/"));
    }

    [Test]
    public async Task Session_SkipAutoHeaders_applies_to_the_websocket_handshake()
    {
        var handshake = new TaskCompletionSource<string>();
        await using var server = WebSockets.WsServers.Raw(async c =>
        {
            handshake.TrySetResult(c.Request);
            await c.EchoCloseAsync();
        });
        using var session = new ClientSession(new ClientSessionOptions { SkipAutoHeaders = new[] { "User-Agent" } });
        await using var ws = await session.WsConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/chat"));
        var request = await handshake.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(Header(request, "User-Agent"), Is.Null);
        Assert.That(Header(request, "Upgrade"), Is.EqualTo("websocket"));
    }

    private static RawServer RedirectingTo(string location) => new(async c =>
    {
        while (await c.ReadRequestAsync() is { } request)
        {
            var target = request[..request.IndexOf("\r\n", StringComparison.Ordinal)].Split(' ')[1];
            await c.WriteAsync(target == "/start"
                ? $"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
                : $"HTTP/1.1 200 OK\r\nContent-Length: {target.Length}\r\n\r\n{target}");
        }
    });

    [Test]
    public async Task RequoteRedirectUrl_false_follows_the_Location_byte_for_byte()
    {
        await using var server = RedirectingTo("/p/%7euser/a%2fb");
        using var requoting = new ClientSession();
        using var verbatim = new ClientSession(new ClientSessionOptions { RequoteRedirectUrl = false });
        Assert.That(await requoting.Get(server.Url("/start")).SelectMany(r => r.Text()), Is.EqualTo("/p/~user/a%2Fb"), "requoted as any URL is");
        Assert.That(await verbatim.Get(server.Url("/start")).SelectMany(r => r.Text()), Is.EqualTo("/p/%7euser/a%2fb"));
    }

    [Test]
    public async Task ReadBufferSize_bounds_the_chunks_of_Content()
    {
        using var small = new ClientSession(new ClientSessionOptions { ReadBufferSize = 1000 });
        var chunks = await small.Get(Server.Url("/bytes/300000")).SelectMany(r => r.Content).ToList();
        Assert.That(chunks.Sum(c => c.Length), Is.EqualTo(300000));
        Assert.That(chunks.Max(c => c.Length), Is.LessThanOrEqualTo(1000));
        var own = await small.Get(Server.Url("/bytes/300000"), new RequestOptions { ReadBufferSize = 100_000 }).SelectMany(r => r.Content).ToList();
        Assert.That(own.Max(c => c.Length), Is.GreaterThan(1000), "the request's own size wins");
    }

    [Test]
    public void Bad_values_fail_when_configured()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ClientSessionOptions { ReadBufferSize = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RequestOptions { ReadBufferSize = -1 });
        var e = Assert.Throws<ArgumentException>(() => _ = new ClientSession(new ClientSessionOptions { SkipAutoHeaders = new[] { "Accept", " " } }));
        Assert.That(e!.Message, Does.Contain("SkipAutoHeaders"));
    }

    [Test]
    public async Task ReadUntilEof_false_takes_a_body_without_length_as_empty_and_closes_the_connection()
    {
        await using var server = new RawServer(async c =>
        {
            if (await c.ReadRequestAsync() is null) return;
            // No Content-Length, not chunked, and the connection stays open: only a close would end this body.
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nwhatever follows");
            await c.WaitForCloseAsync();
        });
        using var session = new ClientSession();
        var body = await session.Get(server.Url(), new RequestOptions { ReadUntilEof = false }).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(10));
        Assert.That(body, Is.Empty);
        Assert.That(await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.True, "the connection is not kept: what follows cannot be framed");
    }

    [Test]
    public async Task ReadUntilEof_default_reads_such_a_body_to_the_close()
    {
        await using var server = new RawServer(async c =>
        {
            if (await c.ReadRequestAsync() is null) return;
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end");
            c.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        });
        using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(10)), Is.EqualTo("to the end"));
    }

    [Test]
    public async Task Every_verb_takes_a_Uri()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var absolute = new Uri(Server.Url("/echo"));
        var verbs = new Func<Uri, ResponseObservable>[]
        {
            u => session.Get(u), u => session.Post(u), u => session.Put(u), u => session.Patch(u), u => session.Delete(u),
            u => session.Options(u), u => session.Request("GET", u),
        };
        foreach (var verb in verbs) Assert.That(await verb(absolute).Select(r => r.Status), Is.EqualTo(200));
        Assert.That(await session.Head(new Uri(Server.Url("/hello"))).Select(r => r.Status), Is.EqualTo(200));
        Assert.That(await session.Get(new Uri("hello", UriKind.Relative)).SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello), "relative: joined onto the base URL");
        Assert.That(await session.Get(new Uri(Server.Url("/echo") + "?q=a%20b")).Select(r => r.Url.Query), Is.EqualTo("q=a%20b"));
        Assert.Throws<ArgumentNullException>(() => session.Get((Uri)null!));
    }
}
