using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Text.Json;
using NUnit.Framework;
using RxHttp.Tests.Pipeline;
using static RxHttp.Tests.Pipeline.Marble;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// The websocket's heartbeat and closing handshake in virtual time, over an in-memory connection whose server side is
/// a testable observable of frames (subscribed while the connection is open): the frames the client writes, its
/// messages and the connection's end are asserted to the tick.
/// </summary>
[TestFixture]
public class WsTimerMarbleTests : ReactiveTest
{
    private const string Pong = "\x8A\x00";
    private const string CloseOk = "\x88\x02\x03\xE8"; // CLOSE 1000
    private static string Text(string s) => "\x81" + (char)s.Length + s;

    private sealed class Peer(TestScheduler scheduler, ITestableObservable<string> server, WsConnectOptions options)
    {
        public PeerStream? Stream;
        public ClientWebSocket? Socket;

        // Opened when subscribed (tick 200 under Start), as the handshake would hand it over.
        public IObservable<string> Messages() => Observable.Defer(() => Open().Messages.Select(m => m.Type + (m.Type == WsMsgType.Text ? " " + m.Text : "")));

        public ClientWebSocket Open()
        {
            Stream = new PeerStream(scheduler, server);
            Socket = new ClientWebSocket(Url.Parse("ws://h/"), Stream, null, Array.Empty<byte>(), null, null, 101, new HeaderCollection(), options,
                scheduler, TimeSpan.FromSeconds(5), o => JsonSerializer.Serialize(o));
            return Socket;
        }

        // The frames the client wrote: (tick, opcode).
        public IEnumerable<(long, int)> Sent => Stream!.Written.Select(w => (w.Time, w.Data[0] & 0x0F));
    }

    [Test]
    public void Heartbeat_pings_after_silence_and_fails_with_1006_when_no_pong_comes_in_half_the_time()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable<string>();
        var peer = new Peer(scheduler, server, new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(2) });

        var res = scheduler.Start(peer.Messages, 100, 200, S(60));

        // 2 s and 1 s are under the 5 s threshold: exact ticks.
        res.Messages.AssertEqual(OnNext(200 + S(3), "Error"), OnError<string>(200 + S(3), e => e is ServerTimeoutError));
        Assert.That(peer.Sent, Is.EqualTo(new[] { (200 + S(2), 9) }), "one PING, and no CLOSE: the connection is failed, not closed");
        Assert.That(peer.Socket!.CloseCode, Is.EqualTo(1006));
        server.Subscriptions.AssertEqual(Subscribe(200, 200 + S(3)));
    }

    [Test]
    public void A_pong_keeps_the_connection_and_restarts_the_heartbeat_from_its_tick()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(OnNext(S(2.5), Pong), OnNext(S(4), Text("hi")));
        var peer = new Peer(scheduler, server, new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(2) });

        var res = scheduler.Start(peer.Messages, 100, 200, S(60));

        // PING at 2 s, PONG at 2.5 s; "hi" at 4 s restarts it again: PING at 6 s, nothing by 7 s.
        res.Messages.AssertEqual(OnNext(200 + S(4), "Text hi"), OnNext(200 + S(7), "Error"), OnError<string>(200 + S(7), e => e is ServerTimeoutError));
        Assert.That(peer.Sent, Is.EqualTo(new[] { (200 + S(2), 9), (200 + S(6), 9) }));
        server.Subscriptions.AssertEqual(Subscribe(200, 200 + S(7)));
    }

    [Test]
    public void A_heartbeat_at_or_over_the_threshold_pings_at_the_ceiled_second()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable<string>();
        var peer = new Peer(scheduler, server, new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(6) });

        var res = scheduler.Start(peer.Messages, 100, 200, S(60));

        // 200 ticks + 6 s ceils to 7 s; the 3 s pong wait is under the threshold: 10 s exactly.
        Assert.That(peer.Sent, Is.EqualTo(new[] { (S(7), 9) }));
        res.Messages.AssertEqual(OnNext(S(10), "Error"), OnError<string>(S(10), e => e is ServerTimeoutError));
        server.Subscriptions.AssertEqual(Subscribe(200, S(10)));
    }

    [Test]
    public void Data_in_the_pong_wait_answers_the_ping_and_the_heartbeat_restarts_from_it()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(OnNext(S(2.4), Text("x")));
        var peer = new Peer(scheduler, server, new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(2) });

        var res = scheduler.Start(peer.Messages, 100, 200, S(60));

        // PING at 2 s; "x" at 2.4 s is an answer, though not a PONG: the next PING at 4.4 s, unanswered by 5.4 s.
        res.Messages.AssertEqual(OnNext(200 + S(2.4), "Text x"), OnNext(200 + S(5.4), "Error"), OnError<string>(200 + S(5.4), e => e is ServerTimeoutError));
        Assert.That(peer.Sent, Is.EqualTo(new[] { (200 + S(2), 9), (200 + S(4.4), 9) }));
        server.Subscriptions.AssertEqual(Subscribe(200, 200 + S(5.4)));
    }

    [Test]
    public void Receive_timeout_counts_from_the_last_message_and_fails_at_its_exact_tick()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(OnNext(S(1), Text("a")), OnNext(S(2.5), Text("b")), OnNext(S(4), Text("c")));
        var peer = new Peer(scheduler, server, new WsConnectOptions { Timeout = new WsTimeout { WsReceive = TimeSpan.FromSeconds(2) } });

        var res = scheduler.Start(peer.Messages, 100, 200, S(60));

        // Each message starts the 2 s over (not ceiled, as aiohttp's receive timeout): the last at 4 s, so 6 s.
        res.Messages.AssertEqual(
            OnNext(200 + S(1), "Text a"), OnNext(200 + S(2.5), "Text b"), OnNext(200 + S(4), "Text c"),
            OnNext(200 + S(6), "Error"), OnError<string>(200 + S(6), e => e is ServerTimeoutError));
        Assert.That(peer.Sent, Is.Empty, "failed, not closed: no CLOSE");
        Assert.That(peer.Socket!.CloseCode, Is.EqualTo(1006));
        server.Subscriptions.AssertEqual(Subscribe(200, 200 + S(6)));
    }

    [Test]
    public void Close_sends_CLOSE_at_once_and_completes_when_the_server_answers()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(OnNext(200, CloseOk));
        var peer = new Peer(scheduler, server, new WsConnectOptions());
        var ws = peer.Open(); // at tick 0

        var res = scheduler.Start(() => ws.Close().Select(_ => "closed"), 50, 100, S(60));

        res.Messages.AssertEqual(OnNext(200, "closed"), OnCompleted<string>(200));
        Assert.That(peer.Sent, Is.EqualTo(new[] { (100L, 8) }));
        Assert.That(ws.CloseCode, Is.EqualTo(1000));
        server.Subscriptions.AssertEqual(Subscribe(0, 200));
    }

    [Test]
    public void Close_gives_up_waiting_for_the_server_after_WsClose_and_reports_1006()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable<string>();
        var peer = new Peer(scheduler, server, new WsConnectOptions { Timeout = new WsTimeout { WsClose = TimeSpan.FromSeconds(3) } });
        var ws = peer.Open(); // at tick 0

        var res = scheduler.Start(() => ws.Close().Select(_ => "closed"), 50, 100, S(60));

        res.Messages.AssertEqual(OnNext(100 + S(3), "closed"), OnCompleted<string>(100 + S(3)));
        Assert.That(peer.Sent, Is.EqualTo(new[] { (100L, 8) }));
        Assert.That(ws.CloseCode, Is.EqualTo(1006));
        server.Subscriptions.AssertEqual(Subscribe(0, 100 + S(3)));
    }

    [Test]
    public void Close_stops_the_heartbeat_so_only_WsClose_bounds_the_wait_for_the_server()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable<string>();
        var peer = new Peer(scheduler, server, new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(2), Timeout = new WsTimeout { WsClose = TimeSpan.FromSeconds(4) } });
        var ws = peer.Open(); // at tick 0

        var res = scheduler.Start(() => ws.Close().Select(_ => "closed"), 50, 100, S(60));

        // As aiohttp's close(): no PING after our CLOSE, so no missing PONG to fail on at 3 s; dropped at 4 s instead.
        res.Messages.AssertEqual(OnNext(100 + S(4), "closed"), OnCompleted<string>(100 + S(4)));
        Assert.That(peer.Sent, Is.EqualTo(new[] { (100L, 8) }));
        Assert.That(ws.CloseCode, Is.EqualTo(1006));
        Assert.That(ws.Exception, Is.Null, "closed by the user, not failed");
    }

    [Test]
    public void Close_stops_the_receive_timeout_so_only_WsClose_bounds_the_wait_for_the_server()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(OnNext(S(3), CloseOk));
        var peer = new Peer(scheduler, server, new WsConnectOptions { Timeout = new WsTimeout { WsReceive = TimeSpan.FromSeconds(1), WsClose = TimeSpan.FromSeconds(4) } });
        var ws = peer.Open(); // at tick 0

        var res = scheduler.Start(() => ws.Close().Select(_ => "closed"), 50, 100, S(60));

        // The answer at 3 s is within WsClose: a clean close with the server's code, not a receive timeout at 1 s.
        res.Messages.AssertEqual(OnNext(S(3), "closed"), OnCompleted<string>(S(3)));
        Assert.That(ws.CloseCode, Is.EqualTo(1000));
        Assert.That(ws.Exception, Is.Null);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void With_autoclose_off_the_servers_CLOSE_stops_the_timers_and_its_code_stays(bool heartbeat)
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(OnNext(50, CloseOk));
        var peer = new Peer(scheduler, server, heartbeat
            ? new WsConnectOptions { Autoclose = false, Heartbeat = TimeSpan.FromSeconds(2) }
            : new WsConnectOptions { Autoclose = false, Timeout = new WsTimeout { WsReceive = TimeSpan.FromSeconds(1) } });

        var res = scheduler.Start(peer.Messages, 100, 200, S(60));

        // Nothing is read after the CLOSE, so no PONG could ever count: a PING and its timeout would only replace the
        // server's code with 1006 and fail a socket the user is about to close.
        res.Messages.AssertEqual(OnNext(250, "Close"), OnCompleted<string>(250));
        Assert.That(peer.Sent, Is.Empty);
        Assert.That(peer.Socket!.CloseCode, Is.EqualTo(1000));
        Assert.That(peer.Socket.Exception, Is.Null);
        Assert.That(peer.Socket.Closed, Is.False, "open until Close() answers the server");
    }

    [Test]
    public void A_CLOSE_from_the_server_is_echoed_at_its_tick_and_ends_the_messages()
    {
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(OnNext(30, Text("a")), OnNext(50, CloseOk));
        var peer = new Peer(scheduler, server, new WsConnectOptions());

        var res = scheduler.Start(peer.Messages);

        res.Messages.AssertEqual(OnNext(230, "Text a"), OnNext(250, "Close"), OnCompleted<string>(250));
        Assert.That(peer.Sent, Is.EqualTo(new[] { (250L, 8) }));
        server.Subscriptions.AssertEqual(Subscribe(200, 250));
    }
}
