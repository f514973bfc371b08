using System.Reactive.Threading.Tasks;
using System.Net;
using System.Net.Sockets;
using System.Reactive.Linq;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.WebSockets;

public class ReconnectingWebSocketTests
{
    private static long Sec(double s) => TimeSpan.FromSeconds(s).Ticks;

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Test]
    public async Task Backoff_doubles_on_the_scheduler_and_gives_up_after_MaxAttempts()
    {
        var s = new SocketTestScheduler();
        await using var session = new ClientSession(new ClientSessionOptions { Scheduler = s, Timeout = ClientTimeout.None });
        var ws = session.WsReconnecting($"ws://127.0.0.1:{FreePort()}/x", reconnect: new ReconnectOptions { InitialDelay = TimeSpan.FromSeconds(1), Factor = 2, MaxAttempts = 4, Jitter = 0 });
        var losses = new List<(long, DisconnectionInfo)>();
        Exception? gaveUp = null;
        using var _ = ws.Disconnected.Subscribe(d => { lock (losses) losses.Add((s.Clock, d)); });
        using var __ = ws.Messages.Subscribe(_ => { }, e => gaveUp = e);
        ws.Start();

        int Count() { lock (losses) return losses.Count; }
        await Wait.Until(() => Count() == 1, what: "the first refused attempt");
        foreach (var (next, count) in new[] { (1.0, 2), (3.0, 3), (7.0, 4) })
        {
            await Wait.Until(() => s.IsPending(Sec(next)), what: $"the retry timer at {next} s");
            s.AdvanceTo(Sec(next) - 1);
            Assert.That(Count(), Is.EqualTo(count - 1), $"no attempt before {next} s");
            s.AdvanceTo(Sec(next));
            await Wait.Until(() => Count() == count, what: $"attempt {count} at {next} s");
        }
        await Wait.Until(() => gaveUp is not null, what: "giving up");
        Assert.That(gaveUp, Is.InstanceOf<WsConnectionError>());
        lock (losses) Assert.That(losses.Select(l => l.Item2.Exception), Has.All.InstanceOf<ClientConnectorError>());
        Assert.That(s.PendingDueTimes(), Is.Empty, "no further attempt is scheduled");
    }

    [Test]
    public async Task A_lost_connection_is_reopened_and_messages_keep_flowing_on_one_stream()
    {
        var served = 0;
        await using var server = await KestrelServer.StartAsync(app =>
        {
            app.UseWebSockets();
            app.Map("/ws/flaky", async (HttpContext ctx) =>
            {
                using var socket = await ctx.WebSockets.AcceptWebSocketAsync();
                var n = Interlocked.Increment(ref served);
                await socket.SendAsync(Encoding.UTF8.GetBytes($"hello {n}"), System.Net.WebSockets.WebSocketMessageType.Text, true, default);
                if (n == 1)
                {
                    // Drop the first connection without a CLOSE once the client is surely past its handshake.
                    await socket.ReceiveAsync(new byte[64], default);
                    ctx.Abort();
                }
                else await WsServers.EchoAsync(socket);
            });
        });
        var s = new SocketTestScheduler();
        await using var session = new ClientSession(new ClientSessionOptions { Scheduler = s, Timeout = ClientTimeout.None });
        var ws = session.WsReconnecting(server.Url("ws/flaky").Replace("http", "ws"), reconnect: new ReconnectOptions { InitialDelay = TimeSpan.FromSeconds(2), Jitter = 0 });
        var texts = new List<string>();
        var reconnections = new List<ReconnectionInfo>();
        var losses = new List<DisconnectionInfo>();
        using var a = ws.Messages.Where(m => m.Type == WsMsgType.Text).Subscribe(m => { lock (texts) texts.Add(m.Text!); });
        using var b = ws.Reconnected.Subscribe(r => { lock (reconnections) reconnections.Add(r); });
        using var c = ws.Disconnected.Subscribe(d => { lock (losses) losses.Add(d); });
        ws.Start();

        await Wait.Until(() => { lock (texts) return texts.Count == 1; }, what: "the first greeting");
        await ws.SendStr("bye 1").Timeout(TimeSpan.FromSeconds(20));
        await Wait.Until(() => { lock (losses) return losses.Count == 1; }, what: "the first connection to drop");
        Assert.That(ws.Current, Is.Null);
        Assert.That(losses[0].CloseCode, Is.EqualTo((int)WsCloseCode.AbnormalClosure), () => $"loss: {losses[0]}");
        var queued = ws.SendStr("queued while lost").ToTask();
        Assert.That(ws.QueuedSends, Is.EqualTo(1));
        Assert.That(queued.IsCompleted, Is.False, "a send completes when written, not when queued");
        await Wait.Until(() => s.IsPending(Sec(2)), what: "the reconnect timer");
        s.AdvanceTo(Sec(2));
        await queued.WaitAsync(TimeSpan.FromSeconds(20));
        await Wait.Until(() => { lock (texts) return texts.Count == 3; }, what: "the second greeting and the queued message's echo");
        await ws.SendStr("ping 2").Timeout(TimeSpan.FromSeconds(20));
        await Wait.Until(() => { lock (texts) return texts.Count == 4; }, what: "the echo");
        lock (texts) Assert.That(texts, Is.EqualTo(new[] { "hello 1", "hello 2", "queued while lost", "ping 2" }));
        lock (reconnections) Assert.That(reconnections.Select(r => r.Type), Is.EqualTo(new[] { ReconnectionType.Initial, ReconnectionType.Lost }));

        var completed = false;
        using var d = ws.Messages.Subscribe(_ => { }, () => completed = true);
        var current = ws.Current!;
        await ws.DisposeAsync();
        Assert.That(completed, Is.True, "Messages completes when the wrapper is closed");
        Assert.That(current.Closed, Is.True);
        Assert.That(served, Is.EqualTo(2), "no reconnection after an intentional close");
    }

    // A Kestrel echo server on a fixed port; stopping it drops its websockets (as a restarting server does).
    private static Task<KestrelServer> EchoServerAsync(int port) => KestrelServer.StartAsync(app =>
    {
        app.UseWebSockets();
        var stopping = app.Lifetime.ApplicationStopping;
        app.Map("/ws/restart", async (HttpContext ctx) =>
        {
            using var socket = await ctx.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var r = await socket.ReceiveAsync(buffer, stopping);
                    if (r.MessageType == System.Net.WebSockets.WebSocketMessageType.Close) return;
                    await socket.SendAsync(buffer.AsMemory(0, r.Count), r.MessageType, r.EndOfMessage, stopping);
                }
            }
            catch (OperationCanceledException)
            {
                ctx.Abort();
            }
        });
    }, port: port);

    [Test]
    public async Task Sends_queued_while_the_server_restarts_are_delivered_after_it_is_back()
    {
        var port = FreePort();
        var server = await EchoServerAsync(port);
        // Real time here: the server's restart takes real time, and the backoff (50 ms, capped at 200 ms) just keeps trying.
        await using var session = new ClientSession(new ClientSessionOptions { Timeout = ClientTimeout.None });
        var ws = session.WsReconnecting($"ws://127.0.0.1:{port}/ws/restart",
            reconnect: new ReconnectOptions { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) });
        var texts = new List<string>();
        var reconnections = new List<ReconnectionType>();
        var losses = new List<DisconnectionInfo>();
        using var a = ws.Messages.Where(m => m.Type == WsMsgType.Text).Subscribe(m => { lock (texts) texts.Add(m.Text!); });
        using var b = ws.Reconnected.Subscribe(r => { lock (reconnections) reconnections.Add(r.Type); });
        using var c = ws.Disconnected.Subscribe(d => { lock (losses) losses.Add(d); });
        ws.Start();
        await ws.SendStr("before").Timeout(TimeSpan.FromSeconds(20));
        await Wait.Until(() => { lock (texts) return texts.Contains("before"); }, what: "the first echo");

        await server.DisposeAsync();
        await Wait.Until(() => ws.Current is null, what: "the client to notice the server is gone");
        var queued = Enumerable.Range(1, 3).Select(i => ws.SendStr("queued " + i).ToTask()).ToList();
        await Wait.Until(() => { lock (losses) return losses.Any(l => l.Type == DisconnectionType.Error); }, what: "a refused attempt while the server is down");
        Assert.That(queued.Select(t => t.IsCompleted), Is.All.False, "nothing is written while the server is down");

        await using (await EchoServerAsync(port))
        {
            await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(20));
            await Wait.Until(() => { lock (texts) return texts.Count == 4; }, what: "the queued messages' echoes");
            lock (texts) Assert.That(texts, Is.EqualTo(new[] { "before", "queued 1", "queued 2", "queued 3" }));
            lock (reconnections) Assert.That(reconnections, Is.EqualTo(new[] { ReconnectionType.Initial, ReconnectionType.Lost }));
            lock (losses) Assert.That(losses[0].Type, Is.EqualTo(DisconnectionType.Lost));
            await ws.DisposeAsync();
        }
    }
}
