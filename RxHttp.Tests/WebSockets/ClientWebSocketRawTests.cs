using System.Reactive;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;
using static RxHttp.Tests.WebSockets.WsServers;

namespace RxHttp.Tests.WebSockets;

/// <summary>The client against a scripted server: malformed frames, handshake faults, control frames, and timers in virtual time.</summary>
[TestFixture]
public class ClientWebSocketRawTests
{
    private static string WsUrl(RawServer server) => $"ws://127.0.0.1:{server.Port}/chat";

    private static async Task<List<Notification<WsMessage>>> AllNotifications(ClientWebSocket ws) =>
        (await ws.Messages.Materialize().ToList().Timeout(TimeSpan.FromSeconds(10))).ToList();

    private static readonly object[] Violations =
    {
        new object[] { "reserved opcode 3", new byte[] { 0x83, 0x00 }, 1002 },
        new object[] { "RSV2 set", new byte[] { 0xA1, 0x00 }, 1002 },
        new object[] { "RSV1 without deflate", new byte[] { 0xC1, 0x01, 0x41 }, 1002 },
        new object[] { "masked server frame", new byte[] { 0x81, 0x81, 1, 2, 3, 4, 0x41 }, 1002 },
        new object[] { "fragmented ping", new byte[] { 0x09, 0x00 }, 1002 },
        new object[] { "continuation without start", new byte[] { 0x80, 0x00 }, 1002 },
        new object[] { "invalid UTF-8 text", new byte[] { 0x81, 0x02, 0xC3, 0x28 }, 1007 },
        new object[] { "close with 1 byte", new byte[] { 0x88, 0x01, 0x03 }, 1002 },
        new object[] { "close with reserved code 1005", new byte[] { 0x88, 0x02, 0x03, 0xED }, 1002 },
        new object[] { "oversize message", new byte[] { 0x82, 0x7E, 0x04, 0x00 }, 1009 },
    };

    [TestCaseSource(nameof(Violations))]
    public async Task Each_protocol_violation_closes_with_its_code_and_an_error_message(string what, byte[] frame, int code)
    {
        var closeSeen = new TaskCompletionSource<(int Code, bool Masked)>();
        await using var server = Raw(async c =>
        {
            await c.SendAsync(Text("before"));
            await c.SendAsync(frame);
            var f = await c.ReadFrameAsync();
            closeSeen.TrySetResult(f is { Opcode: WsMsgType.Close } cf ? ((cf.Payload[0] << 8) | cf.Payload[1], cf.Masked) : (-1, false));
            await c.ReadUntilEofAsync();
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions { MaxMsgSize = 1000 });
        var notes = await AllNotifications(ws);
        Assert.That(notes[0].Value!.Text, Is.EqualTo("before"), what);
        Assert.That(notes[1].Value!.Type, Is.EqualTo(WsMsgType.Error), what);
        Assert.That(notes[1].Value!.Exception, Is.InstanceOf<WebSocketProtocolException>());
        Assert.That(notes[2].Kind, Is.EqualTo(NotificationKind.OnError));
        Assert.That(notes[2].Exception, Is.SameAs(notes[1].Value!.Exception));
        Assert.That(ws.CloseCode, Is.EqualTo(code));
        Assert.That(ws.Exception, Is.SameAs(notes[1].Value!.Exception));
        Assert.That(ws.Closed, Is.True);
        Assert.That(await closeSeen.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo((code, true)), "the server got a masked CLOSE with the code");
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Async_enumeration_throws_the_protocol_error()
    {
        await using var server = Raw(async c =>
        {
            await c.SendAsync(Text("ok"));
            await c.SendAsync(new byte[] { 0x81, 0x01, 0xFF });
            await c.ReadUntilEofAsync();
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        var seen = new List<string>();
        var e = Assert.ThrowsAsync<WebSocketProtocolException>(async () =>
        {
            await foreach (var m in ws) seen.Add(m.Text!);
        });
        Assert.That(e!.CloseCode, Is.EqualTo(WsCloseCode.InvalidText));
        Assert.That(seen, Is.EqualTo(new[] { "ok" }));
    }

    [Test]
    public async Task Frames_sent_right_behind_the_101_head_are_not_lost()
    {
        var afterHead = Text("greeting").Concat(Frame(WsMsgType.Binary, new byte[] { 9, 8 })).Concat(new byte[] { 0x81 }).ToArray();
        await using var server = Raw(async c =>
        {
            await Task.Delay(50);
            await c.SendAsync(new byte[] { 0x03, (byte)'a', (byte)'b', (byte)'c' });
            await c.EchoCloseAsync();
        }, afterHead: afterHead);
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("greeting"));
        Assert.That((await ws.ReceiveAsync()).Data.ToArray(), Is.EqualTo(new byte[] { 9, 8 }));
        Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("abc"), "a frame header split between the 101 packet and the next");
    }

    [Test]
    public async Task Ping_storm_is_answered_with_matching_pongs_and_hidden()
    {
        var pongs = new TaskCompletionSource<List<byte[]>>();
        await using var server = Raw(async c =>
        {
            var burst = Enumerable.Range(0, 500).SelectMany(i => Frame(WsMsgType.Ping, BitConverter.GetBytes(i))).Concat(Text("after")).ToArray();
            await c.SendAsync(burst);
            var got = new List<byte[]>();
            while (got.Count < 500 && await c.ReadFrameAsync() is { } f)
                if (f.Opcode == WsMsgType.Pong) got.Add(f.Payload);
            pongs.TrySetResult(got);
            await c.EchoCloseAsync();
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        var first = await ws.ReceiveAsync();
        Assert.That(first.Text, Is.EqualTo("after"), "pings are not delivered with autoping on");
        var got = await pongs.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(got.Select(p => BitConverter.ToInt32(p)), Is.EqualTo(Enumerable.Range(0, 500)));
    }

    [Test]
    public async Task With_autoping_off_pings_and_pongs_reach_the_subscriber_and_are_not_answered()
    {
        var frames = new TaskCompletionSource<List<WsMsgType>>();
        await using var server = Raw(async c =>
        {
            await c.SendAsync(Frame(WsMsgType.Ping, "p"u8).Concat(Frame(WsMsgType.Pong, "q"u8)).Concat(CloseFrame(1000)).ToArray());
            frames.TrySetResult((await c.ReadUntilEofAsync()).Select(f => f.Opcode).ToList());
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions { Autoping = false });
        var notes = await AllNotifications(ws);
        Assert.That(notes.Where(n => n.Kind == NotificationKind.OnNext).Select(n => n.Value!.Type),
            Is.EqualTo(new[] { WsMsgType.Ping, WsMsgType.Pong, WsMsgType.Close }));
        Assert.That(Encoding.ASCII.GetString(notes[0].Value!.Data.Span), Is.EqualTo("p"));
        Assert.That(await frames.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(new[] { WsMsgType.Close }), "only the autoclose answer");
    }

    [Test]
    public async Task With_autoclose_off_the_socket_stays_open_until_close_is_called()
    {
        var frames = new TaskCompletionSource<List<(WsMsgType, byte[])>>();
        await using var server = Raw(async c =>
        {
            await c.SendAsync(CloseFrame(4002, "why"));
            frames.TrySetResult((await c.ReadUntilEofAsync()).Select(f => (f.Opcode, f.Payload)).ToList());
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions { Autoclose = false });
        var notes = await AllNotifications(ws);
        Assert.That(notes[0].Value!.CloseCode, Is.EqualTo(4002));
        Assert.That(notes[1].Kind, Is.EqualTo(NotificationKind.OnCompleted));
        Assert.That(ws.Closed, Is.False);
        Assert.That(ws.CloseCode, Is.EqualTo(4002));
        Assert.That(frames.Task.IsCompleted, Is.False);
        await ws.Close(1000, "ok");
        Assert.That(ws.Closed, Is.True);
        var sent = await frames.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(sent.Single().Item1, Is.EqualTo(WsMsgType.Close));
        Assert.That(sent.Single().Item2, Is.EqualTo(new byte[] { 0x03, 0xE8, (byte)'o', (byte)'k' }));
    }

    [Test]
    public async Task Autoclose_echoes_the_servers_code()
    {
        var frames = new TaskCompletionSource<List<byte[]>>();
        await using var server = Raw(async c =>
        {
            await c.SendAsync(CloseFrame(4005));
            frames.TrySetResult((await c.ReadUntilEofAsync()).Select(f => f.Payload).ToList());
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        await AllNotifications(ws);
        Assert.That(await frames.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(new[] { new byte[] { 0x0F, 0xA5 } }));
        Assert.That(ws.Closed, Is.True);
    }

    [Test]
    public async Task Lost_connection_without_close_is_1006_and_server_disconnected()
    {
        await using var server = Raw(async c =>
        {
            await c.SendAsync(Text("bye"));
            c.Drop();
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server));
        var notes = await AllNotifications(ws);
        Assert.That(notes.Select(n => n.Kind), Is.EqualTo(new[] { NotificationKind.OnNext, NotificationKind.OnNext, NotificationKind.OnError }));
        Assert.That(notes[1].Value!.Type, Is.EqualTo(WsMsgType.Error));
        Assert.That(notes[2].Exception, Is.InstanceOf<ServerDisconnectedError>());
        Assert.That(ws.CloseCode, Is.EqualTo(1006));
    }

    [TestCase("")]
    [TestCase("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n")]
    public async Task A_server_closing_before_its_handshake_answer_ends_is_ServerDisconnectedError(string partial)
    {
        await using var server = new RawServer(async c =>
        {
            if (await c.ReadRequestAsync() is null) return;
            await c.WriteAsync(partial);
        });
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<ServerDisconnectedError>(() => session.WsConnectAsync(WsUrl(server)));
        Assert.That(e!.Message, Is.EqualTo("Server disconnected during the websocket handshake"));
    }

    private static readonly object[] BadHandshakes =
    {
        new object[] { "200 OK", "", "Invalid response status" },
        new object[] { null!, "Sec-WebSocket-Protocol: other\r\n", "not offered" },
        new object[] { null!, "Sec-WebSocket-Extensions: permessage-deflate\r\n", "not offered" },
    };

    [TestCaseSource(nameof(BadHandshakes))]
    public async Task Bad_handshake_answers_are_handshake_errors_and_close_the_connection(string? status, string headers, string message)
    {
        await using var server = Raw(c => c.ReadUntilEofAsync(), extraHeaders: headers, status: status);
        using var session = new ClientSession();
        var e = Assert.ThrowsAsync<WsServerHandshakeError>(() => session.WsConnectAsync(WsUrl(server), new WsConnectOptions { Protocols = new[] { "chat" } }));
        Assert.That(e!.Message, Does.Contain(message));
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(session.Connector.CurrentState.ToString(), Is.Not.Empty);
    }

    [Test]
    public async Task Wrong_accept_key_and_missing_upgrade_are_refused()
    {
        var wrongAccept = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n");
        });
        var noUpgrade = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n");
        });
        await using (wrongAccept)
        await using (noUpgrade)
        {
            using var session = new ClientSession();
            var a = Assert.ThrowsAsync<WsServerHandshakeError>(() => session.WsConnectAsync(WsUrl(wrongAccept)));
            Assert.That(a!.Message, Does.Contain("Invalid challenge response"));
            Assert.That(a.Status, Is.EqualTo(101));
            var b = Assert.ThrowsAsync<WsServerHandshakeError>(() => session.WsConnectAsync(WsUrl(noUpgrade)));
            Assert.That(b!.Message, Does.Contain("Invalid upgrade header"));
        }
    }

    [Test]
    public async Task Handshake_request_has_the_rfc_6455_headers()
    {
        await using var server = Raw(c => c.EchoCloseAsync());
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions { Compress = 12 });
        var request = server.Requests.Single();
        Assert.That(request, Does.StartWith("GET /chat HTTP/1.1\r\n"));
        Assert.That(request, Does.Contain("Upgrade: websocket\r\n"));
        Assert.That(request, Does.Contain("Connection: Upgrade\r\n"));
        Assert.That(request, Does.Contain("Sec-WebSocket-Version: 13\r\n"));
        Assert.That(request, Does.Contain("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=12\r\n"));
        Assert.That(request, Does.Match("Sec-WebSocket-Key: [A-Za-z0-9+/]{22}==\r\n"));
        Assert.That(ws.Compress, Is.False, "the server did not accept the offer");
    }

    // ---- virtual time ----

    private sealed class Recorder(SocketTestScheduler scheduler) : IObserver<WsMessage>
    {
        public List<(long Tick, string What)> Events { get; } = new();
        public int Count { get { lock (Events) return Events.Count; } }
        public void OnNext(WsMessage value) { lock (Events) Events.Add((scheduler.Clock, value.Type.ToString())); }
        public void OnError(Exception error) { lock (Events) Events.Add((scheduler.Clock, "OnError " + error.GetType().Name)); }
        public void OnCompleted() { lock (Events) Events.Add((scheduler.Clock, "OnCompleted")); }
    }

    private static long S(double seconds) => TimeSpan.FromSeconds(seconds).Ticks;

    [Test]
    public async Task Heartbeat_pings_after_silence_and_fails_when_nothing_answers_in_half_the_time()
    {
        var pings = 0;
        await using var server = Raw(async c =>
        {
            while (await c.ReadFrameAsync() is { } f)
                if (f.Opcode == WsMsgType.Ping) Interlocked.Increment(ref pings);
        });
        var scheduler = new SocketTestScheduler();
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler });
        await using var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(2) });
        var recorder = new Recorder(scheduler);
        using var sub = ws.Messages.Subscribe(recorder);
        scheduler.AdvanceTo(S(2) - 1);
        Assert.That(Volatile.Read(ref pings), Is.Zero);
        scheduler.AdvanceTo(S(2));
        await Wait.Until(() => Volatile.Read(ref pings) == 1, what: "the heartbeat PING");
        scheduler.AdvanceTo(S(3) - 1);
        Assert.That(recorder.Count, Is.Zero);
        Assert.That(ws.Closed, Is.False);
        scheduler.AdvanceTo(S(3));
        Assert.That(recorder.Events, Is.EqualTo(new[] { (S(3), "Error"), (S(3), "OnError ServerTimeoutError") }));
        Assert.That(ws.CloseCode, Is.EqualTo(1006));
        Assert.That(ws.Closed, Is.True);
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Heartbeat_is_reset_by_any_inbound_data_and_a_pong_keeps_the_connection()
    {
        var pings = 0;
        var sendNow = new SemaphoreSlim(0);
        await using var server = Raw(async c =>
        {
            var reader = Task.Run(() => c.EchoCloseAsync(async f =>
            {
                if (f.Opcode != WsMsgType.Ping) return;
                Interlocked.Increment(ref pings);
                await c.SendAsync(Frame(WsMsgType.Pong, f.Payload));
            }));
            await sendNow.WaitAsync();
            await c.SendAsync(Text("data"));
            await reader;
        });
        var scheduler = new SocketTestScheduler();
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler });
        await using var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(2) });
        var recorder = new Recorder(scheduler);
        using var sub = ws.Messages.Subscribe(recorder);
        scheduler.AdvanceTo(S(1.5));
        sendNow.Release();
        await Wait.Until(() => recorder.Count == 1, what: "the text");
        scheduler.AdvanceTo(S(3.5) - 1);
        Assert.That(Volatile.Read(ref pings), Is.Zero, "the text at 1.5 s moved the PING to 3.5 s");
        scheduler.AdvanceTo(S(3.5));
        await Wait.Until(() => Volatile.Read(ref pings) == 1, what: "the PING");
        await Task.Delay(100); // let the PONG land; its arrival re-arms the heartbeat at the current virtual time
        scheduler.AdvanceTo(S(5.5) - 1);
        Assert.That(ws.Closed, Is.False, "the PONG cancelled the failure at 4.5 s");
        scheduler.AdvanceTo(S(5.5));
        await Wait.Until(() => Volatile.Read(ref pings) == 2, what: "the second PING");
        Assert.That(recorder.Events, Is.EqualTo(new[] { (S(1.5), "Text") }));
    }

    [Test]
    public async Task Receive_timeout_fails_the_connection_at_the_exact_tick()
    {
        await using var server = Raw(c => c.ReadUntilEofAsync());
        var scheduler = new SocketTestScheduler();
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler });
        await using var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions { Timeout = new WsTimeout { WsReceive = TimeSpan.FromSeconds(3) } });
        var recorder = new Recorder(scheduler);
        scheduler.AdvanceTo(S(1));
        using var sub = ws.Messages.Subscribe(recorder); // reading starts here, so does the wait
        await Task.Delay(50);
        scheduler.AdvanceTo(S(4) - 1);
        Assert.That(recorder.Count, Is.Zero);
        scheduler.AdvanceTo(S(4));
        Assert.That(recorder.Events, Is.EqualTo(new[] { (S(4), "Error"), (S(4), "OnError ServerTimeoutError") }));
        Assert.That(ws.CloseCode, Is.EqualTo(1006));
    }

    [Test]
    public async Task Close_timeout_drops_the_socket_with_1006_at_the_exact_tick()
    {
        var gotClose = new TaskCompletionSource<bool>();
        await using var server = Raw(async c =>
        {
            while (await c.ReadFrameAsync() is { } f)
                if (f.Opcode == WsMsgType.Close) gotClose.TrySetResult(true);
        });
        var scheduler = new SocketTestScheduler();
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler });
        var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions { Timeout = new WsTimeout { WsClose = TimeSpan.FromSeconds(10) } });
        var recorder = new Recorder(scheduler);
        using var sub = ws.Messages.Subscribe(recorder);
        var closed = ws.Close().ToTask();
        await gotClose.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(50);
        scheduler.AdvanceTo(S(10) - 1);
        Assert.That(closed.IsCompleted, Is.False);
        scheduler.AdvanceTo(S(10));
        await closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(recorder.Events, Is.EqualTo(new[] { (S(10), "Closed"), (S(10), "OnCompleted") }));
        Assert.That(ws.CloseCode, Is.EqualTo(1006));
        Assert.That(ws.Closed, Is.True);
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Handshake_is_bounded_by_the_sessions_total_timeout_in_virtual_time()
    {
        var requested = new TaskCompletionSource();
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            requested.TrySetResult();
            await c.WaitForCloseAsync();
        });
        var scheduler = new SocketTestScheduler();
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler, Timeout = new ClientTimeout { Total = TimeSpan.FromSeconds(5) } });
        var connecting = session.WsConnectAsync(WsUrl(server));
        await requested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        scheduler.AdvanceTo(S(5) - 1);
        Assert.That(connecting.IsCompleted, Is.False);
        scheduler.AdvanceTo(S(5));
        Assert.ThrowsAsync<TotalTimeoutError>(() => connecting.WaitAsync(TimeSpan.FromSeconds(10)));
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
