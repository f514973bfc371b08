using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Testing;

/// <summary>Scripted websocket sessions: messages, pings and a close at virtual times, and what the client sent.</summary>
public class FakeWebSocketTests : ReactiveTest
{
    private const string Ws = "wss://ws.example.test/chat";

    [Test]
    public async Task Scripted_messages_arrive_in_order_and_the_close_code_is_reported()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).SendText(TimeSpan.FromTicks(50), "hi").Ping(TimeSpan.FromTicks(60)).SendText(TimeSpan.FromTicks(100), "bye").Close(TimeSpan.FromTicks(300), 4001, "done");
        using var session = http.CreateSession(scheduler);
        ClientWebSocket? socket = null;
        session.WsConnect(Ws).Subscribe(ws => socket = ws);
        Assert.That(socket, Is.Not.Null, "the handshake completed on Subscribe, with no delay scripted");
        scheduler.AdvanceBy(300);

        // ClientWebSocket reads on a pool thread: the frames wait in the fake connection until it does.
        var got = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var m = await socket!.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(10));
            got.Add($"{m.Type} {(m.Type == WsMsgType.Close ? m.CloseCode?.ToString() : m.Text)}");
        }
        Assert.That(got, Is.EqualTo(new[] { "Text hi", "Text bye", "Close 4001" }));
        var session0 = http.WebSockets.Single();
        await Support.Wait.Until(() => session0.Received.Any(f => f.Opcode == 8), what: "the client's close echo");
        Assert.That(session0.Received.Select(f => f.Opcode), Does.Contain(10), "the client answered the ping with a pong");
        Assert.That(session0.Received.Last().CloseCode, Is.EqualTo(4001), "the client echoed the close");
    }

    [Test]
    public void What_the_client_sends_is_recorded()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(scheduler);
        ClientWebSocket? socket = null;
        session.WsConnect(Ws).Subscribe(ws => socket = ws);
        socket!.SendStr("hello").Subscribe();
        socket.SendStr("again").Subscribe();
        Assert.That(http.WebSockets.Single().ReceivedTexts, Is.EqualTo(new[] { "hello", "again" }));
        http.ShouldHaveCalled("wss://ws.example.test/*").WithHeader("Upgrade", "websocket");
    }

    [Test]
    public async Task A_protocol_violation_fails_the_client_with_a_websocket_error()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).ProtocolViolation(TimeSpan.FromTicks(10));
        using var session = http.CreateSession(scheduler);
        ClientWebSocket? socket = null;
        session.WsConnect(Ws).Subscribe(ws => socket = ws);
        scheduler.AdvanceBy(10);
        Exception? error;
        try
        {
            var m = await socket!.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(10));
            error = m.Exception;
        }
        catch (Exception e)
        {
            error = e;
        }
        Assert.That(error, Is.InstanceOf<WebSocketProtocolException>().Or.InstanceOf<ClientError>());
        await Support.Wait.Until(() => http.WebSockets.Single().Received.Any(f => f.CloseCode == 1002), what: "the client's 1002 close");
    }
}
