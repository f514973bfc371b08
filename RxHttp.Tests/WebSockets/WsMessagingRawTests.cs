using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;
using static RxHttp.Tests.WebSockets.WsServers;

namespace RxHttp.Tests.WebSockets;

/// <summary>Receiving and sending messages against a scripted server, where the order of frames on the wire matters.</summary>
[TestFixture]
public class WsMessagingRawTests
{
    private static string WsUrl(RawServer server) => $"ws://127.0.0.1:{server.Port}/chat";

    [Test]
    public async Task Close_reads_on_to_the_servers_close_when_nobody_takes_the_queued_messages()
    {
        // A server streaming faster than the consumer takes messages: the inbox (2 here) fills and holds the read loop.
        // Then the consumer stops receiving and closes. The server answers the CLOSE right away; the close must see that
        // answer (1000), not wait out WsClose and end in 1006 (aiohttp's close() reads past what is queued too).
        var serverSawClose = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = Raw(async c =>
        {
            await c.SendAsync(Enumerable.Range(0, 50).SelectMany(i => Text("tick " + i)).ToArray());
            await c.EchoCloseAsync(f =>
            {
                if (f.Opcode == WsMsgType.Close) serverSawClose.TrySetResult(true);
                return Task.CompletedTask;
            });
        });
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions
        {
            MaxQueuedMessages = 2,
            Timeout = new WsTimeout { WsClose = TimeSpan.FromSeconds(5) },
        });
        Assert.That(await ws.ReceiveStrAsync(), Is.EqualTo("tick 0"));

        await ws.Close().Timeout(TimeSpan.FromSeconds(30));

        Assert.That(await serverSawClose.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(ws.CloseCode, Is.EqualTo(1000), "the server's answer was read, not timed out (1006)");
        // What was queued is still there (a full queue: two ticks, from tick 1; which tick follows depends on whether the
        // loop met the full queue before or after the close began), then the server's CLOSE, then CLOSED.
        var rest = new List<WsMessage>();
        for (var m = await ws.ReceiveAsync(); m.Type != WsMsgType.Closed; m = await ws.ReceiveAsync()) rest.Add(m);
        Assert.That(rest.Select(m => m.Type), Is.EqualTo(new[] { WsMsgType.Text, WsMsgType.Text, WsMsgType.Close }));
        Assert.That(rest[0].Text, Is.EqualTo("tick 1"));
        Assert.That(rest[^1].CloseCode, Is.EqualTo(1000));
    }

    [Test]
    public async Task Close_is_bounded_by_WsClose_even_behind_a_send_stalled_on_a_peer_that_stopped_reading()
    {
        // The peer answers the handshake, then reads nothing: a 32 MiB message, far more than the socket buffers hold,
        // stalls holding the send lock. Close() must still end after WsClose (1006, as aiohttp's close() does), not wait
        // for that lock for good.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = Raw(_ => release.Task);
        try
        {
            // Not disposed on its own: the session's end aborts it, which is all that is left if the close hangs.
            using var session = new ClientSession();
            var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions
            {
                Timeout = new WsTimeout { WsClose = TimeSpan.FromSeconds(1) },
            });
            var big = ws.SendBytes(new byte[32 * 1024 * 1024]).ToTask();

            await ws.Close().Timeout(TimeSpan.FromSeconds(30));

            Assert.That(ws.CloseCode, Is.EqualTo(1006));
            Assert.That(ws.Closed, Is.True);
            Assert.ThrowsAsync<WsConnectionError>(() => big.WaitAsync(TimeSpan.FromSeconds(10)), "the stalled send fails with the dropped socket");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    // The peer reads nothing after the handshake, so a 32 MiB message stalls holding the send lock; then it sends a
    // frame the read loop must answer with a CLOSE of its own: a reserved opcode (fail with 1002) or a CLOSE 1000
    // (autoclose echoes it). That CLOSE cannot go out, but the socket must still end once WsClose has passed, not wait
    // for the lock for good, and the stalled send fails with the dropped socket.
    [TestCase(new byte[] { 0x83, 0x00 }, 1002, TestName = "A protocol violation fails the connection behind a stalled send")]
    [TestCase(new byte[] { 0x88, 0x02, 0x03, 0xE8 }, 1000, TestName = "The autoclose answer to the server's CLOSE is bounded behind a stalled send")]
    public async Task The_read_loops_close_is_bounded_by_WsClose_behind_a_send_stalled_on_a_peer_that_stopped_reading(byte[] frame, int closeCode)
    {
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = Raw(async c =>
        {
            await stalled.Task;
            await c.SendAsync(frame);
            await release.Task; // the TCP connection stays: only WsClose can end the wait
        });
        try
        {
            // Not disposed on its own: the session's end aborts it, which is all that is left if the failure hangs.
            using var session = new ClientSession();
            var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions
            {
                Timeout = new WsTimeout { WsClose = TimeSpan.FromSeconds(1) },
            });
            var notes = ws.Messages.Materialize().ToList().ToTask();
            var big = ws.SendBytes(new byte[32 * 1024 * 1024]).ToTask();
            stalled.TrySetResult();

            var all = await notes.WaitAsync(TimeSpan.FromSeconds(30));

            if (closeCode == 1002) Assert.That(all[^1].Exception, Is.InstanceOf<WebSocketProtocolException>());
            else Assert.That(all[^1].Kind, Is.EqualTo(System.Reactive.NotificationKind.OnCompleted));
            Assert.That(ws.CloseCode, Is.EqualTo(closeCode), "why it ended, not 1006: the CLOSE was due, only its sending stalled");
            Assert.That(ws.Closed, Is.True);
            Assert.ThrowsAsync<WsConnectionError>(() => big.WaitAsync(TimeSpan.FromSeconds(10)), "the stalled send fails with the dropped socket");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Test]
    public async Task A_servers_CLOSE_crossing_our_close_behind_a_long_send_lets_that_send_and_our_CLOSE_finish()
    {
        // The peer reads nothing at first, so a 32 MiB message holds the send lock; Close() is called and waits behind
        // it; then the server's CLOSE arrives. Both sides are closing: the message being written and our CLOSE must still
        // go out whole (RFC 6455 5.4: a frame once started is finished; 7.1.2: the CLOSE is sent), as they do when the
        // server's CLOSE comes with no Close() of ours (autoclose waits for the lock). Dropping the socket at once cut
        // the message in the middle of its frame and never sent the CLOSE.
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var frames = new TaskCompletionSource<List<(bool Fin, WsMsgType Opcode, byte[] Payload, bool Masked)>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = Raw(async c =>
        {
            await stalled.Task;
            await c.SendAsync(CloseFrame(1001, "going away"));
            await read.Task;
            frames.TrySetResult(await c.ReadUntilEofAsync());
        });
        using var session = new ClientSession();
        var ws = await session.WsConnectAsync(WsUrl(server));
        var notes = ws.Messages.Materialize().ToList().ToTask();
        var big = ws.SendBytes(new byte[32 * 1024 * 1024]).ToTask();
        var close = ws.Close().ToTask();
        stalled.TrySetResult();

        var all = await notes.WaitAsync(TimeSpan.FromSeconds(30)); // the server's CLOSE was read
        read.TrySetResult();

        var got = await frames.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(got.Select(f => (f.Opcode, f.Fin, f.Payload?.Length)), Is.EqualTo(new (WsMsgType, bool, int?)[]
        {
            (WsMsgType.Binary, true, 32 * 1024 * 1024),
            (WsMsgType.Close, true, 2),
        }));
        await close.WaitAsync(TimeSpan.FromSeconds(30));
        await big.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(all.Select(n => n.Kind == System.Reactive.NotificationKind.OnNext ? n.Value.Type.ToString() : n.Kind.ToString()), Is.EqualTo(new[] { "Close", "OnCompleted" }));
        Assert.That(ws.CloseCode, Is.EqualTo(1001));
        Assert.That(ws.Exception, Is.Null);
        Assert.That(ws.Closed, Is.True);
    }

    [Test]
    public async Task A_servers_CLOSE_crossing_our_close_behind_a_send_that_never_ends_keeps_the_servers_code()
    {
        // As above, but the peer never reads: our CLOSE cannot go out, so WsClose ends the wait. The server did close
        // (1001): that is why it ended, as when autoclose's answer stalls the same way, not 1006.
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = Raw(async c =>
        {
            await stalled.Task;
            await c.SendAsync(CloseFrame(1001));
            await release.Task;
        });
        try
        {
            using var session = new ClientSession();
            var ws = await session.WsConnectAsync(WsUrl(server), new WsConnectOptions { Timeout = new WsTimeout { WsClose = TimeSpan.FromSeconds(1) } });
            var notes = ws.Messages.Materialize().ToList().ToTask();
            var big = ws.SendBytes(new byte[32 * 1024 * 1024]).ToTask();
            var close = ws.Close().ToTask();
            stalled.TrySetResult();

            await close.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.That(ws.CloseCode, Is.EqualTo(1001));
            Assert.That(ws.Closed, Is.True);
            Assert.That((await notes.WaitAsync(TimeSpan.FromSeconds(10)))[^2].Value.Type, Is.EqualTo(WsMsgType.Close));
            Assert.ThrowsAsync<WsConnectionError>(() => big.WaitAsync(TimeSpan.FromSeconds(10)), "the stalled send fails with the dropped socket");
        }
        finally
        {
            release.TrySetResult();
        }
    }
}

