using System.Reactive;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;
using static RxHttp.Tests.WebSockets.ReconnectingWebSocketQueueTests;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// A <see cref="ReconnectingWebSocket"/> whose session is closed: a closed session refuses every handshake, so the
/// wrapper must end (as disposed) instead of retrying it for good.
/// </summary>
public class ReconnectingWebSocketSessionEndTests : ReactiveTest
{
    [Test]
    public void Closing_the_session_under_an_open_connection_ends_the_wrapper()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000));
        var losses = scheduler.CreateObserver<DisconnectionInfo>();
        var messages = scheduler.CreateObserver<WsMsgType>();
        ws.Disconnected.Subscribe(losses);
        ws.Messages.Select(m => m.Type).Subscribe(messages);
        ws.Start();
        scheduler.AdvanceTo(100);

        session.Dispose();
        var late = scheduler.CreateObserver<Unit>();
        ws.SendStr("after the end").Subscribe(late);
        scheduler.AdvanceTo(1_000_000);

        Assert.That(losses.Messages.Select(m => (m.Time, m.Value.Kind)), Is.EqualTo(new[] { (100L, System.Reactive.NotificationKind.OnNext), (100L, System.Reactive.NotificationKind.OnCompleted) }),
            "one loss, then the end: no attempt on the closed session");
        Assert.That(losses.Messages[0].Value.Value.Type, Is.EqualTo(DisconnectionType.Exit));
        Assert.That(losses.Messages[0].Value.Value.CloseCode, Is.EqualTo(1006), "the session aborts its websockets, as aiohttp's connector does");
        Assert.That(messages.Messages, Is.EqualTo(new[] { OnNext(100, WsMsgType.Closed), OnCompleted<WsMsgType>(100) }));
        Assert.That(late.Messages.Single().Value.Exception, Is.InstanceOf<SessionClosedError>());
        Assert.That(http.WebSockets, Has.Count.EqualTo(1));
        Assert.That(ws.Reconnect, Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public void Closing_the_session_during_the_backoff_ends_the_wrapper_at_once_and_fails_the_queued_sends()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).Close(TimeSpan.FromTicks(100), 1001);
        var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000));
        var reconnections = scheduler.CreateObserver<ReconnectionInfo>();
        var losses = scheduler.CreateObserver<DisconnectionInfo>();
        var messages = scheduler.CreateObserver<WsMsgType>();
        ws.Reconnected.Subscribe(reconnections);
        ws.Disconnected.Subscribe(losses);
        ws.Messages.Select(m => m.Type).Subscribe(messages);
        ws.Start();
        scheduler.AdvanceTo(100); // closed by the server: the next attempt is due at 1100
        var queued = scheduler.CreateObserver<Unit>();
        ws.SendStr("waits for a connection").Subscribe(queued);

        scheduler.AdvanceTo(500);
        session.Dispose();

        Assert.That(queued.Messages.Single().Time, Is.EqualTo(500));
        Assert.That(queued.Messages.Single().Value.Exception, Is.InstanceOf<SessionClosedError>());
        Assert.That(messages.Messages.Last(), Is.EqualTo(OnCompleted<WsMsgType>(500)));
        Assert.That(reconnections.Messages.Last(), Is.EqualTo(OnCompleted<ReconnectionInfo>(500)));
        scheduler.AdvanceTo(1_000_000);
        Assert.That(losses.Messages.Select(m => (m.Time, m.Value.Kind)), Is.EqualTo(new[] { (100L, System.Reactive.NotificationKind.OnNext), (500L, System.Reactive.NotificationKind.OnCompleted) }),
            "the wait was cut short, not followed by a failed attempt on the closed session");
    }

    [Test]
    public void Starting_on_a_closed_session_ends_at_once()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        var session = http.CreateSession(scheduler);
        session.Dispose();
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000));
        var messages = scheduler.CreateObserver<WsMessage>();
        var losses = scheduler.CreateObserver<DisconnectionInfo>();
        ws.Messages.Subscribe(messages);
        ws.Disconnected.Subscribe(losses);

        ws.Start();
        scheduler.AdvanceTo(1_000_000);

        Assert.That(messages.Messages, Is.EqualTo(new[] { OnCompleted<WsMessage>(0) }));
        Assert.That(losses.Messages, Is.EqualTo(new[] { OnCompleted<DisconnectionInfo>(0) }), "no attempt, so no failed one");
    }
}
