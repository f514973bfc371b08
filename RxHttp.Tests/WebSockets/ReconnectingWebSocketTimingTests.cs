using System.Reactive;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;
using static RxHttp.Tests.WebSockets.ReconnectingWebSocketQueueTests;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// <see cref="ReconnectingWebSocket"/>'s timing in virtual time on scripted websocket sessions: the silence
/// watchdog, <see cref="ReconnectingWebSocket.Reconnect"/>, jittered backoff, the per-connection hook, giving up.
/// </summary>
public class ReconnectingWebSocketTimingTests : ReactiveTest
{
    [Test]
    public void The_watchdog_reconnects_a_silent_connection_at_the_exact_tick()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).SendText(TimeSpan.FromTicks(200), "tick");
        using var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000) with { NoMessageTimeout = TimeSpan.FromTicks(500) });
        var texts = scheduler.CreateObserver<string?>();
        var reconnections = scheduler.CreateObserver<ReconnectionType>();
        var losses = scheduler.CreateObserver<DisconnectionType>();
        ws.Messages.Select(m => m.Text).Subscribe(texts);
        ws.Reconnected.Select(r => r.Type).Subscribe(reconnections);
        ws.Disconnected.Select(d => d.Type).Subscribe(losses);
        ws.Start();

        scheduler.AdvanceTo(699);
        Assert.That(losses.Messages, Is.Empty, "the message at 200 restarted the 500-tick wait");
        scheduler.AdvanceTo(700);
        Assert.That(losses.Messages, Is.EqualTo(new[] { OnNext(700, DisconnectionType.NoMessageReceived) }));
        Assert.That(reconnections.Messages, Is.EqualTo(new[] { OnNext(0, ReconnectionType.Initial), OnNext(700, ReconnectionType.NoMessageReceived) }),
            "silence reconnects at once, without the backoff");
        Assert.That(http.WebSockets, Has.Count.EqualTo(2));

        scheduler.AdvanceTo(1400);
        Assert.That(texts.Messages, Is.EqualTo(new[] { OnNext(200, "tick"), OnNext(900, "tick") }), "one stream across connections, each message at its tick");
        Assert.That(losses.Messages.Select(m => m.Time), Is.EqualTo(new[] { 700L, 1400L }));
        Assert.That(http.WebSockets, Has.Count.EqualTo(3));
    }

    [Test]
    public void Reconnect_replaces_the_connection_at_once()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000));
        Assert.Throws<InvalidOperationException>(ws.Reconnect, "not started");
        var reconnections = scheduler.CreateObserver<ReconnectionInfo>();
        var losses = scheduler.CreateObserver<DisconnectionInfo>();
        ws.Reconnected.Subscribe(reconnections);
        ws.Disconnected.Subscribe(losses);
        ws.Start();
        var first = ws.Current!;

        scheduler.AdvanceTo(300);
        ws.Reconnect();
        Assert.That(losses.Messages.Single().Value.Value.Type, Is.EqualTo(DisconnectionType.ByUser));
        Assert.That(reconnections.Messages.Select(m => (m.Time, m.Value.Value.Type)), Is.EqualTo(new[] { (0L, ReconnectionType.Initial), (300L, ReconnectionType.ByUser) }));
        Assert.That(ws.Current, Is.Not.SameAs(first).And.SameAs(reconnections.Messages[1].Value.Value.Socket));
        ws.SendStr("on the new one").Subscribe();
        Assert.That(http.WebSockets.Select(s => s.ReceivedTexts.Count), Is.EqualTo(new[] { 0, 1 }));
        // The replaced socket is closed with the closing handshake.
        Assert.That(first.WhenClosed.Timeout(TimeSpan.FromSeconds(10)).Wait(), Is.EqualTo(Unit.Default));
        Assert.That(http.WebSockets[0].Received.Last().CloseCode, Is.EqualTo(1000));
    }

    [Test]
    public void Backoff_is_jittered_within_its_bounds_by_the_random_source()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Ws).Fail(FakeFault.ConnectionRefused);
        using var session = http.CreateSession(scheduler);
        // Waits before jitter: 1000, 2000, 4000, 8000 (capped at 5000). Jitter 0.5 takes off d * 0.5 * random.
        // The attempts after the fourth draw too: a source that ran dry threw from the failed handshake's OnError.
        var randoms = new Queue<double>(new[] { 0.0, 0.5, 0.999, 1.0 });
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000) with { Jitter = 0.5, MaxDelay = TimeSpan.FromTicks(5000), Random = () => randoms.TryDequeue(out var r) ? r : 1.0 });
        var attempts = scheduler.CreateObserver<DisconnectionType>();
        ws.Disconnected.Select(d => d.Type).Subscribe(attempts);
        ws.Start();
        scheduler.AdvanceTo(20_000);

        var times = attempts.Messages.Select(m => m.Time).ToList();
        var waits = times.Zip(times.Skip(1), (x, y) => y - x).Take(4).ToList();
        Assert.That(waits, Is.EqualTo(new[] { 1000L, 1500L, 2002L, 2500L }), "d, d - d/4, about d/2, exactly d/2 (random clamped to 1)");
        Assert.That(attempts.Messages.Select(m => m.Value.Value), Is.All.EqualTo(DisconnectionType.Error));
    }

    [Test]
    public void The_hook_runs_on_each_connection_before_queued_sends_are_written()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).Close(TimeSpan.FromTicks(500));
        using var session = http.CreateSession(scheduler);
        var reconnectedAt = new List<long>();
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000) with
        {
            // Subscribe, then wait 50 ticks (as for the server's acknowledgement) before the connection is used.
            OnConnected = socket => socket.SendStr("subscribe").Concat(Observable.Timer(TimeSpan.FromTicks(50), scheduler).Select(_ => Unit.Default)),
        });
        ws.Reconnected.Subscribe(_ => reconnectedAt.Add(scheduler.Clock));
        ws.SendStr("queued 1").Subscribe();
        ws.Start();
        Assert.That(ws.Current, Is.Null, "not ready while the hook runs");
        ws.SendStr("queued 2").Subscribe();
        scheduler.AdvanceTo(50);
        var first = http.WebSockets[0].Received.Select(f => (f.Text, f.Time.UtcTicks)).ToList();
        Assert.That(first, Is.EqualTo(new[] { ("subscribe", 0L), ("queued 1", 50L), ("queued 2", 50L) }));

        scheduler.AdvanceTo(500); // closed by the server
        ws.SendStr("queued 3").Subscribe();
        scheduler.AdvanceTo(1550);
        var second = http.WebSockets[1].Received.Select(f => (f.Text, f.Time.UtcTicks)).ToList();
        Assert.That(second, Is.EqualTo(new[] { ("subscribe", 1500L), ("queued 3", 1550L) }));
        Assert.That(reconnectedAt, Is.EqualTo(new[] { 50L, 1550L }), "Reconnected fires when the hook is done");
    }

    [Test]
    public void A_failing_hook_is_a_failed_attempt_and_its_error_is_reported_unchanged()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(scheduler);
        var mine = new InvalidOperationException("login refused");
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000, maxAttempts: 2) with { OnConnected = _ => Observable.Throw<Unit>(mine) });
        var losses = scheduler.CreateObserver<DisconnectionInfo>();
        var messages = scheduler.CreateObserver<WsMessage>();
        ws.Disconnected.Subscribe(losses);
        ws.Messages.Subscribe(messages);
        var pending = new SendProbe(scheduler);
        ws.SendStr("never").Subscribe(pending);
        ws.Start();
        scheduler.AdvanceTo(1000);

        Assert.That(losses.Messages.Select(m => (m.Time, m.Value.Value.Type, m.Value.Value.Exception)),
            Is.EqualTo(new[] { (0L, DisconnectionType.Error, (Exception?)mine), (1000L, DisconnectionType.Error, mine) }));
        var end = messages.Messages.Single();
        Assert.That((end.Time, end.Value.Kind), Is.EqualTo((1000L, System.Reactive.NotificationKind.OnError)));
        Assert.That(end.Value.Exception, Is.InstanceOf<WsConnectionError>().With.InnerException.SameAs(mine));
        Assert.That(pending.Error, Is.SameAs(end.Value.Exception), "queued sends fail when it gives up");
        Assert.That(http.WebSockets.Select(s => s.ReceivedTexts.Count), Is.All.EqualTo(0), "nothing queued went to a connection the hook refused");
        scheduler.AdvanceTo(100_000);
        Assert.That(http.WebSockets, Has.Count.EqualTo(2));
    }

    [Test]
    public void The_backoff_runs_on_the_websocket_options_clock()
    {
        var sessionClock = new TestScheduler();
        var wsClock = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).Close(TimeSpan.Zero, 1001); // each connection is closed by the server at once
        using var session = http.CreateSession(sessionClock);
        var ws = session.WsReconnecting(Ws, new WsConnectOptions { Scheduler = wsClock }, Ticks(1000));
        var losses = Losses(wsClock, ws);
        ws.Start();

        sessionClock.AdvanceBy(1000);
        Assert.That(http.WebSockets, Has.Count.EqualTo(1), "nothing waits on the session's clock");
        wsClock.AdvanceTo(999);
        Assert.That(http.WebSockets, Has.Count.EqualTo(1));
        wsClock.AdvanceTo(1000);
        Assert.That(http.WebSockets, Has.Count.EqualTo(2), "the 1000-tick backoff on the websocket's clock");
        Assert.That(losses.Messages, Is.EqualTo(new[] { OnNext(0, DisconnectionType.ByServer), OnNext(1000, DisconnectionType.ByServer) }));
    }

    [Test]
    public void The_watchdog_runs_on_the_websocket_options_clock()
    {
        var sessionClock = new TestScheduler();
        var wsClock = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(sessionClock);
        var ws = session.WsReconnecting(Ws, new WsConnectOptions { Scheduler = wsClock }, Ticks(1000) with { NoMessageTimeout = TimeSpan.FromTicks(500) });
        var losses = Losses(wsClock, ws);
        ws.Start();

        sessionClock.AdvanceBy(500);
        Assert.That(losses.Messages, Is.Empty, "nothing waits on the session's clock");
        wsClock.AdvanceTo(500);
        Assert.That(losses.Messages, Is.EqualTo(new[] { OnNext(500, DisconnectionType.NoMessageReceived) }));
        Assert.That(http.WebSockets, Has.Count.EqualTo(2));
    }

    private static ITestableObserver<DisconnectionType> Losses(TestScheduler clock, ReconnectingWebSocket ws)
    {
        var losses = clock.CreateObserver<DisconnectionType>();
        ws.Disconnected.Select(d => d.Type).Subscribe(losses);
        return losses;
    }
}

