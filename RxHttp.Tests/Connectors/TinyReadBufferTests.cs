using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;
using RxHttp.Tests.WebSockets;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// Every exchange shape over connections whose read buffer starts at 16 bytes, as SocketsHttpHandler's DEBUG
/// builds do: each head, chunk-size line and websocket frame is then split across reads and the buffer grows many
/// times, so a parser that assumes a whole line or head in one read fails here.
/// </summary>
[TestFixture, NonParallelizable]
public class TinyReadBufferTests
{
    private KestrelServer _server = null!;
    private int _saved;

    [OneTimeSetUp]
    public async Task Start()
    {
        _saved = Connection.InitialBufferSize;
        Connection.InitialBufferSize = 16;
        _server = await WsServers.StartKestrelAsync();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        Connection.InitialBufferSize = _saved;
        await _server.DisposeAsync();
    }

    [Test]
    public async Task Heads_and_bodies_of_every_framing_arrive_whole_over_one_connection()
    {
        using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { StreamResponse = true });
        var before = _server.ConnectionCount;
        Assert.That(await session.Get("hello").SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        Assert.That(await session.Get("bytes/100000").SelectMany(r => r.Read()), Is.EqualTo(KestrelServer.Pattern(100000)));
        var chunked = await session.Get("chunked/40").SelectMany(r => r.Read());
        Assert.That(chunked, Has.Length.GreaterThan(0));
        var json = await session.Get("json").SelectMany(r => r.Text());
        Assert.That(json, Is.EqualTo("{\"name\":\"rx\",\"value\":42,\"list\":[1,2,3]}"));
        foreach (var kind in new[] { "gzip", "deflate", "br" })
            Assert.That(await session.Get($"compressed/{kind}").SelectMany(r => r.Read()), Has.Length.GreaterThan(0), kind);
        var redirected = await session.Get("redirect/3");
        Assert.That((redirected.Status, await redirected.Text()), Is.EqualTo((200, "done")));
        Assert.That(_server.ConnectionCount - before, Is.EqualTo(1), "every response was read to its end and the connection kept");
    }

    [Test]
    public async Task Long_headers_and_an_echoed_body_cross_many_reads()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var value = new string('v', 5000);
        var body = Encoding.UTF8.GetBytes(new string('b', 70000));
        var echo = await session.Post("echo", new RequestOptions
        {
            Headers = new Dictionary<string, string> { ["X-Long"] = value },
            Data = body,
        }).SelectMany(r => r.Text());
        Assert.That(echo, Does.Contain(value).And.Contain(new string('b', 70000)));
    }

    [Test]
    public async Task Websocket_frames_split_across_reads_are_reassembled()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(_server.Url("ws/echo").Replace("http://", "ws://"));
        var big = new string('x', 70000);
        var replies = ws.Messages.Where(m => m.Type == WsMsgType.Text).Select(m => m.Text!).Take(3).ToList().ToTask();
        await ws.SendStr("a");
        await ws.SendStr(big);
        await ws.SendStr("z");
        Assert.That(await replies.WaitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(new[] { "a", big, "z" }));
    }
}
