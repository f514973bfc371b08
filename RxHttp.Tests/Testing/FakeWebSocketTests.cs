using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Testing;

/// <summary>Scripted websocket sessions: messages, pings and a close at virtual times, and what the client sent.</summary>
public class FakeWebSocketTests : ReactiveTest
{
    private const string Ws = "wss://ws.example.test/chat";

    [Test]
    public void Scripted_messages_arrive_at_their_ticks_and_the_ping_and_close_are_answered_at_once()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).SendText(TimeSpan.FromTicks(50), "hi").Ping(TimeSpan.FromTicks(60)).SendText(TimeSpan.FromTicks(100), "bye").Close(TimeSpan.FromTicks(300), 4001, "done");
        using var session = http.CreateSession(scheduler);
        var socket = Connect(session);
        Assert.That(socket, Is.Not.Null, "the handshake completed on Subscribe, with no delay scripted");
        // On a virtual clock the websocket's read loop starts inline: each frame is read at the tick it is sent.
        var messages = scheduler.CreateObserver<string>();
        socket.Messages.Select(m => $"{m.Type} {(m.Type == WsMsgType.Close ? m.CloseCode?.ToString() : m.Text)}").Subscribe(messages);
        scheduler.AdvanceBy(300);

        messages.Messages.AssertEqual(OnNext(50, "Text hi"), OnNext(100, "Text bye"), OnNext(300, "Close 4001"), OnCompleted<string>(300));
        var received = http.WebSockets.Single().Received;
        Assert.That(received.Select(f => (f.Time.UtcTicks, f.Opcode)), Is.EqualTo(new[] { (60L, 10), (300L, 8) }),
            "the pong at the ping's tick, the close echo at the close's");
        Assert.That(received.Last().CloseCode, Is.EqualTo(4001), "the client echoed the close");
    }

    [Test]
    public void What_the_client_sends_is_recorded()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(scheduler);
        var socket = Connect(session);
        socket.SendStr("hello").Subscribe();
        socket.SendStr("again").Subscribe();
        Assert.That(http.WebSockets.Single().ReceivedTexts, Is.EqualTo(new[] { "hello", "again" }));
        http.ShouldHaveCalled("wss://ws.example.test/*").WithHeader("Upgrade", "websocket");
    }

    [Test]
    public void A_message_the_client_splits_into_frames_is_recorded_whole()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(scheduler);
        var socket = Connect(session, new WsConnectOptions { MaxFrameSize = 3 });
        socket.SendStr("héllo wörld").Subscribe();
        socket.SendBytes(new byte[] { 1, 2, 3, 4 }).Subscribe();
        socket.SendStr("ok").Subscribe();

        Assert.That(http.WebSockets.Single().Received.Select(f => f.Opcode), Is.EqualTo(new[] { 1, 0, 0, 0, 0, 2, 0, 1 }), "split at 3 bytes");
        Assert.That(http.WebSockets.Single().ReceivedTexts, Is.EqualTo(new[] { "héllo wörld", "ok" }), "the ö straddles two frames");
    }

    [Test]
    public async Task A_protocol_violation_fails_the_client_with_a_websocket_error()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).ProtocolViolation(TimeSpan.FromTicks(10));
        using var session = http.CreateSession(scheduler);
        var socket = Connect(session);
        scheduler.AdvanceBy(10);
        Exception? error;
        try
        {
            var m = await socket.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(10));
            error = m.Exception;
        }
        catch (Exception e)
        {
            error = e;
        }
        Assert.That(error, Is.InstanceOf<WebSocketProtocolException>().Or.InstanceOf<ClientError>());
        Assert.That(http.WebSockets.Single().Received.Select(f => f.CloseCode), Is.EqualTo(new int?[] { 1002 }), "the client's 1002 close, sent inline");
    }

    [Test]
    public void A_receive_timeout_and_a_heartbeat_run_on_the_test_clock()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        // Messages every 400 ticks keep a 700-tick receive timeout and a 600-tick heartbeat quiet. After the last
        // (1200) the heartbeat pings at 1800, and the receive timeout fails at 1900, before the PONG wait would (2100).
        http.WhenWebSocket(Ws).IgnorePings().SendText(TimeSpan.FromTicks(400), "a").SendText(TimeSpan.FromTicks(800), "b").SendText(TimeSpan.FromTicks(1200), "c");
        using var session = http.CreateSession(scheduler);
        var options = new WsConnectOptions { Heartbeat = TimeSpan.FromTicks(600), Timeout = new WsTimeout { WsReceive = TimeSpan.FromTicks(700) } };
        var socket = Connect(session, options);
        var messages = scheduler.CreateObserver<string>();
        socket.Messages.Select(m => m.Type + (m.Type == WsMsgType.Text ? " " + m.Text : "")).Subscribe(messages);
        scheduler.AdvanceBy(5000);

        messages.Messages.AssertEqual(OnNext(400, "Text a"), OnNext(800, "Text b"), OnNext(1200, "Text c"),
            OnNext(1900, "Error"), OnError<string>(1900, e => e is ServerTimeoutError && e.Message.StartsWith("No message received")));
        Assert.That(http.WebSockets.Single().Received.Select(f => (f.Time.UtcTicks, f.Opcode)), Is.EqualTo(new[] { (1800L, 9) }),
            "one PING, 600 ticks after the last message; none while messages came");
        Assert.That(socket.CloseCode, Is.EqualTo(1006));
    }

    [Test]
    public void A_heartbeat_on_a_quiet_feed_gets_its_pongs_and_the_socket_stays_open()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).SendText(TimeSpan.FromSeconds(1), "tick");
        using var session = http.CreateSession(scheduler);
        var socket = Connect(session, new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(30) });
        var messages = scheduler.CreateObserver<string>();
        socket.Messages.Select(m => m.Type + (m.Type == WsMsgType.Text ? " " + m.Text : "")).Subscribe(messages);
        scheduler.AdvanceBy(TimeSpan.FromMinutes(2).Ticks);

        // A live server answers each PING at once, so the heartbeat pings every 30 s of silence and never gives up.
        messages.Messages.AssertEqual(OnNext(TimeSpan.FromSeconds(1).Ticks, "Text tick"));
        Assert.That(http.WebSockets.Single().Received.Select(f => (f.Time.UtcTicks / TimeSpan.TicksPerSecond, f.Opcode)),
            Is.EqualTo(new[] { (31L, 9), (61L, 9), (91L, 9) }), "a PING 30 s after the tick, then 30 s after each PONG");
        Assert.That(socket.Closed, Is.False);
        Assert.That(socket.CloseCode, Is.Null);
    }

    [Test]
    public void A_server_that_ignores_pings_is_a_dead_peer_to_the_heartbeat()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).IgnorePings().SendText(TimeSpan.FromSeconds(1), "tick");
        using var session = http.CreateSession(scheduler);
        var socket = Connect(session, new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(30) });
        var messages = scheduler.CreateObserver<string>();
        socket.Messages.Select(m => m.Type + (m.Type == WsMsgType.Text ? " " + m.Text : "")).Subscribe(messages);
        scheduler.AdvanceBy(TimeSpan.FromMinutes(2).Ticks);

        // The PING at 31 s goes unanswered; half the heartbeat later (15 s ≥ CeilThreshold, 46 s is whole) it fails.
        messages.Messages.AssertEqual(OnNext(TimeSpan.FromSeconds(1).Ticks, "Text tick"), OnNext(TimeSpan.FromSeconds(46).Ticks, "Error"),
            OnError<string>(TimeSpan.FromSeconds(46).Ticks, e => e is ServerTimeoutError));
        Assert.That(socket.CloseCode, Is.EqualTo(1006));
    }

    // On the fake, in virtual time, the handshake completes within the subscription.
    private static ClientWebSocket Connect(ClientSession session, WsConnectOptions? options = null)
    {
        ClientWebSocket? socket = null;
        session.WsConnect(Ws, options).Subscribe(ws => socket = ws);
        Assert.That(socket, Is.Not.Null, "connected within the subscription");
        return socket!;
    }
}
