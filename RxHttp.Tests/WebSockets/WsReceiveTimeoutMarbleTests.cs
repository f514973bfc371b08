using System.Text.Json;
using NUnit.Framework;
using RxHttp.Tests.Pipeline;
using static RxHttp.Tests.Pipeline.Marble;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// WsReceive in virtual time when the consumer, not the server, is slow: as aiohttp's receive_timeout (which only runs
/// inside receive()), it bounds the wait for the server, never the time a message waits to be taken or is being handled.
/// </summary>
[TestFixture]
public class WsReceiveTimeoutMarbleTests : ReactiveTest
{
    private const string CloseOk = "\x88\x02\x03\xE8"; // CLOSE 1000
    private static string Text(string s) => "\x81" + (char)s.Length + s;

    private static ClientWebSocket Open(TestScheduler scheduler, PeerStream stream, WsConnectOptions options) =>
        new(Url.Parse("ws://h/"), stream, null, Array.Empty<byte>(), null, null, 101, new HeaderCollection(), options,
            scheduler, TimeSpan.FromSeconds(5), o => JsonSerializer.Serialize(o));

    [Test]
    public async Task A_full_queue_waiting_for_the_consumer_is_not_a_receive_timeout()
    {
        // Three messages and a CLOSE at 1 s into a queue of one: "a" is queued and the read loop holds "b" until the
        // consumer comes back at 10 s. The server was not silent for 2 s; the consumer was slow.
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(OnNext(S(1), Text("a") + Text("b") + Text("c") + CloseOk));
        var stream = new PeerStream(scheduler, server);
        var ws = Open(scheduler, stream, new WsConnectOptions { MaxQueuedMessages = 1, Timeout = new WsTimeout { WsReceive = TimeSpan.FromSeconds(2) } });
        // A receive given up at once: the queue exists and the loop reads (inline on the virtual clock), nothing is taken.
        Assert.That(async () => await ws.ReceiveAsync(new CancellationToken(true)), Throws.InstanceOf<OperationCanceledException>());

        scheduler.AdvanceTo(S(10));

        Assert.That(ws.Exception, Is.Null, "no receive timeout while the loop waited for room in the queue");
        Assert.That(ws.CloseCode, Is.Null);
        Assert.That(await ws.ReceiveStrAsync(), Is.EqualTo("a"));
        Assert.That(await ws.ReceiveStrAsync(), Is.EqualTo("b"));
        Assert.That(await ws.ReceiveStrAsync(), Is.EqualTo("c"));
        var close = await ws.ReceiveAsync();
        Assert.That(close.Type, Is.EqualTo(WsMsgType.Close));
        Assert.That(ws.CloseCode, Is.EqualTo(1000));
        Assert.That(ws.Exception, Is.Null);
    }

    [Test]
    public void A_subscriber_handling_a_message_is_not_a_receive_timeout()
    {
        // A subscriber that spends 4 s of (virtual) time on "a", from 1 s to 5 s: the 2 s count from when it is done, so
        // "b" at 6 s arrives, and only the silence after it fails the connection, at 8 s.
        var scheduler = new TestScheduler();
        var server = scheduler.CreateColdObservable(OnNext(S(1), Text("a")), OnNext(S(6), Text("b")));
        var stream = new PeerStream(scheduler, server);
        var ws = Open(scheduler, stream, new WsConnectOptions { Timeout = new WsTimeout { WsReceive = TimeSpan.FromSeconds(2) } });
        var seen = new List<(long, string)>();
        ws.Messages.Subscribe(m =>
        {
            seen.Add((scheduler.Clock, m.Type + " " + m.Text));
            if (m.Text == "a") scheduler.Sleep(S(4));
        }, e => seen.Add((scheduler.Clock, "OnError " + e.GetType().Name)));

        scheduler.AdvanceTo(S(30));

        Assert.That(seen, Is.EqualTo(new[] { (S(1), "Text a"), (S(6), "Text b"), (S(8), "Error "), (S(8), "OnError ServerTimeoutError") }));
    }
}
