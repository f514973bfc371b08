using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.WebSockets;

[TestFixture]
public class ClientWebSocketTests
{
    private KestrelServer _server = null!;
    private string WsUrl(string path) => _server.Url(path).Replace("http://", "ws://");

    [OneTimeSetUp]
    public async Task Start() => _server = await WsServers.StartKestrelAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Echo_of_text_binary_and_json_over_kestrel()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/echo"));
        Assert.That(ws.Status, Is.EqualTo(101));
        Assert.That(ws.Compress, Is.False);
        await ws.SendStr("héllo");
        Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("héllo"));
        await ws.SendBytes(new byte[] { 0, 1, 2, 255 });
        var bin = await ws.ReceiveAsync();
        Assert.That(bin.Type, Is.EqualTo(WsMsgType.Binary));
        Assert.That(bin.Data.ToArray(), Is.EqualTo(new byte[] { 0, 1, 2, 255 }));
        await ws.SendJson(new { value = 42 });
        Assert.That((await ws.ReceiveAsync()).Json<JsonElement>().GetProperty("value").GetInt32(), Is.EqualTo(42));
        await ws.Close();
        Assert.That(ws.Closed, Is.True);
        Assert.That(ws.CloseCode, Is.EqualTo(1000), "Kestrel echoes our code");
        Assert.That((await ws.ReceiveAsync()).Type, Is.EqualTo(WsMsgType.Close), "the server's answering CLOSE is queued like any message");
        Assert.That((await ws.ReceiveAsync()).Type, Is.EqualTo(WsMsgType.Closed), "after the end, receive gives CLOSED like aiohttp");
        Assert.That((await ws.ReceiveAsync()).Type, Is.EqualTo(WsMsgType.Closed));
    }

    [Test]
    public async Task Compression_is_negotiated_with_kestrel_and_round_trips()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/echo"), new WsConnectOptions { Compress = 15 });
        Assert.That(ws.Compress, Is.True);
        Assert.That(ws.ResponseHeaders.Get("Sec-WebSocket-Extensions"), Does.StartWith("permessage-deflate"));
        var big = string.Concat(Enumerable.Repeat("compressible text ", 50_000));
        await ws.SendStr(big);
        Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo(big));
        await ws.SendStr("plain", compress: false);
        Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("plain"));
    }

    [Test]
    public async Task Subprotocol_is_negotiated_and_headers_origin_auth_params_are_sent()
    {
        using var session = new ClientSession(new ClientSessionOptions { Headers = new Dictionary<string, string> { ["X-Test"] = "session" } });
        await using var chat = await session.WsConnectAsync(WsUrl("ws/echo"), new WsConnectOptions { Protocols = new[] { "other", "chat" } });
        Assert.That(chat.Protocol, Is.EqualTo("chat"));

        await using var ws = await session.WsConnectAsync(WsUrl("ws/headers"), new WsConnectOptions
        {
            Origin = "http://example.com",
            Auth = new System.Net.NetworkCredential("user", "pass"),
            Params = new QueryParams { { "a", "1" } },
            Headers = new Dictionary<string, string> { ["X-Test"] = "mine" },
        });
        Assert.That(ws.Protocol, Is.Null);
        var text = (await ws.ReceiveAsync()).Text!;
        Assert.That(text, Is.EqualTo($"/ws/headers?a=1|http://example.com|Basic {Convert.ToBase64String("user:pass"u8.ToArray())}|mine|RxHttp/0.1.0"));
    }

    [Test]
    public void A_refused_upgrade_is_a_handshake_error_with_status_and_headers()
    {
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<WsServerHandshakeError>(() => session.WsConnectAsync(WsUrl("ws/reject")));
        Assert.That(e!.Status, Is.EqualTo(403));
        Assert.That(e.Headers!.Get("X-Reason"), Is.EqualTo("nope"));
        Assert.That(session.Connector.CurrentState.ToString(), Is.Not.Null);
    }

    [Test]
    public void Non_websocket_urls_and_bad_options_fail_clearly()
    {
        using var session = new ClientSession();
        Assert.ThrowsAsync<NonHttpUrlClientError>(() => session.WsConnectAsync("ftp://127.0.0.1/"));
        Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.WsConnectAsync(WsUrl("ws/echo"), new WsConnectOptions { Compress = 8 }));
        session.Close();
        Assert.ThrowsAsync<SessionClosedError>(() => session.WsConnectAsync(WsUrl("ws/echo")));
    }

    [Test]
    public async Task Server_initiated_close_gives_close_message_code_and_completion()
    {
        using var session = new ClientSession();
        var all = await session.WsConnect(WsUrl("ws/close?code=4001&reason=done")).SelectMany(ws => ws.Messages).ToList().Timeout(TimeSpan.FromSeconds(10));
        Assert.That(all.Select(m => m.Type), Is.EqualTo(new[] { WsMsgType.Text, WsMsgType.Close }));
        Assert.That(all[1].CloseCode, Is.EqualTo(4001));
        Assert.That(all[1].Text, Is.EqualTo("done"));
    }

    [Test]
    public async Task Server_close_ends_the_async_enumeration_and_sets_close_code()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/close?code=1001&reason=away"));
        var texts = new List<string>();
        await foreach (var m in ws) texts.Add(m.Text!);
        Assert.That(texts, Is.EqualTo(new[] { "bye soon" }));
        await Wait.Until(() => ws.Closed);
        Assert.That(ws.CloseCode, Is.EqualTo(1001));
    }

    [Test]
    public async Task Fragmented_message_from_kestrel_is_reassembled_and_fragmented_sends_work()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/fragmented"), new WsConnectOptions { MaxFrameSize = 7 });
        Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("héllo € world"));
        var payload = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        await ws.SendBytes(payload);
        Assert.That((await ws.ReceiveAsync()).Data.ToArray(), Is.EqualTo(payload));
    }

    [Test]
    public async Task Two_subscribers_see_the_same_messages_and_a_late_one_only_later_ones()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/echo"));
        var a = new List<string>();
        var b = new List<string>();
        var late = new List<string>();
        using var subA = ws.Messages.Subscribe(m => { lock (a) a.Add(m.Text!); });
        using var subB = ws.Messages.Subscribe(m => { lock (b) b.Add(m.Text!); });
        await ws.SendStr("one");
        await ws.SendStr("two");
        await Wait.Until(() => { lock (b) return b.Count == 2; });
        using var subLate = ws.Messages.Subscribe(m => { lock (late) late.Add(m.Text!); });
        await ws.SendStr("three");
        await Wait.Until(() => { lock (late) return late.Count == 1; });
        await Wait.Until(() => { lock (a) return a.Count == 3; });
        Assert.That(a, Is.EqualTo(new[] { "one", "two", "three" }));
        Assert.That(b, Is.EqualTo(new[] { "one", "two", "three" }));
        Assert.That(late, Is.EqualTo(new[] { "three" }));
    }

    [Test]
    public async Task Disposing_message_subscribers_keeps_the_socket_open()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/echo"));
        var first = ws.Messages.FirstAsync().ToTask();
        await ws.SendStr("a");
        Assert.That((await first).Text, Is.EqualTo("a"));
        Assert.That(ws.Closed, Is.False);
        var second = ws.Messages.FirstAsync().ToTask();
        await ws.SendStr("b");
        Assert.That((await second).Text, Is.EqualTo("b"));
        Assert.That(ws.Closed, Is.False);
    }

    [Test]
    public async Task Disposing_the_connect_subscription_closes_the_websocket()
    {
        using var session = new ClientSession();
        var got = new TaskCompletionSource<ClientWebSocket>();
        var completed = false;
        var sub = session.WsConnect(WsUrl("ws/echo")).Subscribe(got.SetResult, e => got.TrySetException(e), () => completed = true);
        var ws = await got.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(ws.Closed, Is.False);
        Assert.That(completed, Is.False, "the connect observable lives as long as the websocket");
        sub.Dispose();
        await ws.WhenClosed.Timeout(TimeSpan.FromSeconds(10));
        Assert.That(ws.CloseCode, Is.EqualTo(1000), "a graceful close, echoed by Kestrel");
    }

    [Test]
    public async Task Connect_observable_completes_when_the_websocket_closes()
    {
        using var session = new ClientSession();
        var events = await session.WsConnect(WsUrl("ws/echo"))
            .SelectMany(ws => ws.Close(4000, "bye").Select(_ => "closed").StartWith("open"))
            .ToList().Timeout(TimeSpan.FromSeconds(10));
        Assert.That(events, Is.EqualTo(new[] { "open", "closed" }));
    }

    [Test]
    public async Task Sends_are_serialised_from_many_threads()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/echo"), new WsConnectOptions { Compress = 15 });
        var received = new List<string>();
        using var sub = ws.Messages.Subscribe(m => { lock (received) received.Add(m.Text!); });
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () => await ws.SendStr($"m{i}:" + new string('x', i * 37)))));
        await Wait.Until(() => { lock (received) return received.Count == 200; });
        Assert.That(received.OrderBy(s => int.Parse(s[1..s.IndexOf(':')])).Select(s => s.Length).ToArray(),
            Is.EqualTo(Enumerable.Range(0, 200).Select(i => $"m{i}:".Length + i * 37).ToArray()));
    }

    [Test]
    public async Task Sending_after_close_fails_with_a_connection_error()
    {
        using var session = new ClientSession();
        var ws = await session.WsConnectAsync(WsUrl("ws/echo"));
        await ws.Close();
        Assert.ThrowsAsync<WsConnectionError>(async () => await ws.SendStr("late"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ws.Close(1005));
        Assert.Throws<ArgumentException>(() => ws.Ping(new byte[126]));
    }

    [Test]
    public async Task Closing_the_session_drops_its_websockets()
    {
        var session = new ClientSession();
        var ws = await session.WsConnectAsync(WsUrl("ws/echo"));
        var done = ws.Messages.Materialize().ToList().ToTask();
        session.Close();
        var notes = await done.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(ws.Closed, Is.True);
        Assert.That(notes.Last().Kind, Is.EqualTo(System.Reactive.NotificationKind.OnCompleted));
        Assert.That(notes[^2].Value!.Type, Is.EqualTo(WsMsgType.Closed));
    }

    [Test]
    public async Task The_session_forgets_a_websocket_once_it_is_closed_and_closes_the_others_at_its_end()
    {
        var session = new ClientSession();
        var sockets = new List<ClientWebSocket>();
        for (var i = 0; i < 3; i++) sockets.Add(await session.WsConnectAsync(WsUrl("ws/echo")));
        Assert.That(session.TrackedWebSockets, Is.EqualTo(3));
        await sockets[0].Close();
        await sockets[1].Close();
        await Wait.Until(() => session.TrackedWebSockets == 1, what: "the closed websockets to leave the session's set");
        session.Close();
        await sockets[2].WhenClosed.LastOrDefaultAsync().ToTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(sockets[2].Closed, Is.True);
        Assert.That(session.TrackedWebSockets, Is.EqualTo(0));
    }
}
