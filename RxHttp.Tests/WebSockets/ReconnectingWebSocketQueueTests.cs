using System.Reactive;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// <see cref="ReconnectingWebSocket"/> in virtual time on RxHttp.Testing's scripted websocket sessions: the send
/// queue across reconnections, both full-queue policies, dispose mid-queue, and option checks. No socket is opened.
/// </summary>
public class ReconnectingWebSocketQueueTests : ReactiveTest
{
    internal const string Ws = "ws://feed.example.test/ticks";

    internal static ReconnectOptions Ticks(long initial, int? maxAttempts = null) => new()
    {
        InitialDelay = TimeSpan.FromTicks(initial),
        MaxDelay = TimeSpan.FromTicks(initial * 100),
        Jitter = 0,
        MaxAttempts = maxAttempts,
    };

    /// <summary>Records a send's outcome: the virtual time it completed or the error it failed with.</summary>
    internal sealed class SendProbe(TestScheduler scheduler) : IObserver<Unit>
    {
        public long? CompletedAt;
        public Exception? Error;
        public void OnNext(Unit value) { }
        public void OnError(Exception error) => Error = error;
        public void OnCompleted() => CompletedAt = scheduler.Clock;
    }

    [Test]
    public void Sends_wait_in_order_across_a_reconnection_and_complete_when_written()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).Close(TimeSpan.FromTicks(100), 1001, "going away");
        using var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000));
        var reconnections = scheduler.CreateObserver<ReconnectionType>();
        var losses = scheduler.CreateObserver<DisconnectionInfo>();
        ws.Reconnected.Select(r => r.Type).Subscribe(reconnections);
        ws.Disconnected.Subscribe(losses);
        ws.Start();

        var a = new SendProbe(scheduler);
        ws.SendStr("a").Subscribe(a);
        Assert.That(a.CompletedAt, Is.EqualTo(0), "written at once on the open connection");

        scheduler.AdvanceTo(100); // the server closes with 1001
        Assert.That(ws.Current, Is.Null);
        var b = new SendProbe(scheduler);
        var c = new SendProbe(scheduler);
        ws.SendStr("b").Subscribe(b);
        ws.SendBytes(new byte[] { 1, 2, 3 }).Subscribe(c);
        Assert.That(ws.QueuedSends, Is.EqualTo(2));
        Assert.That((b.CompletedAt, c.CompletedAt), Is.EqualTo(((long?)null, (long?)null)), "queued is not sent");

        scheduler.AdvanceTo(1099);
        Assert.That(http.WebSockets, Has.Count.EqualTo(1), "no attempt before the backoff");
        scheduler.AdvanceTo(1100);
        Assert.That(http.WebSockets, Has.Count.EqualTo(2));
        var second = http.WebSockets[1];
        Assert.That(second.Received.Select(f => f.ToString()), Is.EqualTo(new[] { "text b", "binary 3 B" }));
        Assert.That(second.Received.Select(f => f.Time.UtcTicks), Is.All.EqualTo(1100), "flushed at the reconnection's tick");
        Assert.That((b.CompletedAt, c.CompletedAt), Is.EqualTo(((long?)1100, (long?)1100)));
        Assert.That(http.WebSockets[0].ReceivedTexts, Is.EqualTo(new[] { "a" }));
        Assert.That(ws.QueuedSends, Is.Zero);

        Assert.That(reconnections.Messages, Is.EqualTo(new[] { OnNext(0, ReconnectionType.Initial), OnNext(1100, ReconnectionType.ByServer) }));
        var loss = losses.Messages.Single();
        Assert.That((loss.Time, loss.Value.Value.Type, loss.Value.Value.CloseCode), Is.EqualTo((100L, DisconnectionType.ByServer, (int?)1001)));
    }

    [Test]
    public void A_full_queue_refuses_the_new_send_with_Fail()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000) with { SendQueueLimit = 2 });
        var probes = Enumerable.Range(0, 3).Select(_ => new SendProbe(scheduler)).ToList();
        for (var i = 0; i < 3; i++) ws.SendStr("m" + i).Subscribe(probes[i]); // not started: everything waits

        Assert.That(probes[2].Error, Is.InstanceOf<WsSendQueueFullError>().With.Message.Contains("2 messages"));
        Assert.That(probes[0].Error ?? probes[1].Error, Is.Null);
        ws.Start();
        Assert.That(http.WebSockets.Single().ReceivedTexts, Is.EqualTo(new[] { "m0", "m1" }));
        Assert.That(probes.Take(2).Select(p => p.CompletedAt), Is.All.EqualTo(0));
    }

    [Test]
    public void A_full_queue_drops_the_oldest_with_DropOldest()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000) with { SendQueueLimit = 2, SendQueueFullMode = WsSendQueueFullMode.DropOldest });
        var probes = Enumerable.Range(0, 3).Select(_ => new SendProbe(scheduler)).ToList();
        for (var i = 0; i < 3; i++) ws.SendStr("m" + i).Subscribe(probes[i]);

        Assert.That(probes[0].Error, Is.InstanceOf<WsSendQueueFullError>().With.Message.Contains("Dropped"));
        Assert.That(ws.QueuedSends, Is.EqualTo(2));
        ws.Start();
        Assert.That(http.WebSockets.Single().ReceivedTexts, Is.EqualTo(new[] { "m1", "m2" }));
        Assert.That(probes.Skip(1).Select(p => p.CompletedAt), Is.All.EqualTo(0));
    }

    [Test]
    public async Task Disposing_a_waiting_send_takes_it_out_and_disposing_the_wrapper_fails_the_rest()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws).Close(TimeSpan.FromTicks(10));
        using var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000));
        ws.Start();
        scheduler.AdvanceTo(10); // closed: waiting 1000 ticks for the next attempt
        var probes = Enumerable.Range(0, 3).Select(_ => new SendProbe(scheduler)).ToList();
        var subscriptions = probes.Select((p, i) => ws.SendStr("q" + i).Subscribe(p)).ToList();
        subscriptions[1].Dispose();
        Assert.That(ws.QueuedSends, Is.EqualTo(2));

        scheduler.AdvanceTo(1010);
        Assert.That(http.WebSockets[1].ReceivedTexts, Is.EqualTo(new[] { "q0", "q2" }), "the disposed send never reaches the wire");
        Assert.That((probes[1].CompletedAt, probes[1].Error), Is.EqualTo(((long?)null, (Exception?)null)), "a disposed send hears nothing");
        Assert.That((probes[0].CompletedAt, probes[2].CompletedAt), Is.EqualTo(((long?)1010, (long?)1010)));

        scheduler.AdvanceTo(1020); // closed again
        var late = new SendProbe(scheduler);
        ws.SendStr("late").Subscribe(late);
        var completed = false;
        ws.Messages.Subscribe(_ => { }, () => completed = true);
        await ws.DisposeAsync();
        Assert.That(late.Error, Is.InstanceOf<WsConnectionError>().With.Message.Contains("closed before"));
        Assert.That(completed, Is.True);
        var after = new SendProbe(scheduler);
        ws.SendStr("after").Subscribe(after);
        Assert.That(after.Error, Is.InstanceOf<WsConnectionError>());
        scheduler.AdvanceTo(100_000);
        Assert.That(http.WebSockets, Has.Count.EqualTo(2), "no reconnection after disposal");
    }

    private sealed class Unserializable
    {
        public int Value => throw new InvalidOperationException("not today");
    }

    [Test]
    public void A_text_that_UTF8_cannot_encode_fails_its_own_send_and_the_queue_goes_on()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000));
        // Queued before the connection (written by the connection's pump), then sent while connected (by the send's own).
        var queuedBad = new SendProbe(scheduler);
        var queuedGood = new SendProbe(scheduler);
        ws.SendStr("lone \uD800").Subscribe(queuedBad);
        ws.SendStr("queued").Subscribe(queuedGood);
        ws.Start();
        scheduler.AdvanceTo(100);
        var liveBad = new SendProbe(scheduler);
        var liveGood = new SendProbe(scheduler);
        ws.SendStr("\uDC00 lone").Subscribe(liveBad);
        ws.SendStr("live").Subscribe(liveGood);
        scheduler.AdvanceTo(200);

        Assert.That(queuedBad.Error, Is.InstanceOf<ArgumentException>());
        Assert.That(liveBad.Error, Is.InstanceOf<ArgumentException>());
        Assert.That((queuedGood.CompletedAt, liveGood.CompletedAt), Is.EqualTo(((long?)0, (long?)100)), "the sends behind a bad one are written");
        Assert.That(http.WebSockets[0].ReceivedTexts, Is.EqualTo(new[] { "queued", "live" }));
        Assert.That(ws.QueuedSends, Is.Zero);
    }

    [Test]
    public void A_send_whose_json_cannot_be_made_fails_with_the_serializers_error_and_queues_nothing()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.WhenWebSocket(Ws);
        using var session = http.CreateSession(scheduler);
        var ws = session.WsReconnecting(Ws, reconnect: Ticks(1000));
        var probe = new SendProbe(scheduler);
        ws.SendJson(new Unserializable()).Subscribe(probe);
        Assert.That(probe.Error, Is.InstanceOf<InvalidOperationException>().With.Message.EqualTo("not today"));
        Assert.That(ws.QueuedSends, Is.Zero);
        ws.SendJson(new { ok = true }).Subscribe();
        ws.Start();
        Assert.That(http.WebSockets.Single().ReceivedTexts, Is.EqualTo(new[] { "{\"ok\":true}" }));
    }

    [TestCase("InitialDelay", 0L)]
    [TestCase("InitialDelay", -1L)]
    [TestCase("MaxDelay", 5L)]
    [TestCase("Factor", 0.5)]
    [TestCase("Jitter", 1.5)]
    [TestCase("MaxAttempts", 0)]
    [TestCase("SendQueueLimit", 0)]
    [TestCase("SendQueueLimit", -3)]
    [TestCase("NoMessageTimeout", 0L)]
    public void Bad_options_fail_when_the_websocket_is_created(string option, object value)
    {
        var o = new ReconnectOptions { InitialDelay = TimeSpan.FromTicks(10) };
        o = option switch
        {
            "InitialDelay" => o with { InitialDelay = TimeSpan.FromTicks((long)value) },
            "MaxDelay" => o with { MaxDelay = TimeSpan.FromTicks((long)value) },
            "Factor" => o with { Factor = (double)value },
            "Jitter" => o with { Jitter = (double)value },
            "MaxAttempts" => o with { MaxAttempts = (int)value },
            "SendQueueLimit" => o with { SendQueueLimit = (int)value },
            _ => o with { NoMessageTimeout = TimeSpan.FromTicks((long)value) },
        };
        using var http = new FakeHttp();
        using var session = http.CreateSession(new TestScheduler());
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => session.WsReconnecting(Ws, reconnect: o));
        Assert.That(e!.ParamName, Is.EqualTo(option));
        Assert.That(e.Message, Does.Contain(option));
        http.ShouldNotHaveMadeAnyCalls();
    }
}
