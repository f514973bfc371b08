using System.Diagnostics;
using NUnit.Framework;
using RxHttp.Tests.Support;
using static RxHttp.Tests.Pipeline.Ticks;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// SockRead over a request the server stops reading (its receive window full), in virtual time over a real socket:
/// aiohttp arms sock_read before sending, so such a request fails with ServerTimeoutError; RxHttp re-arms it on
/// each write, so the stalled write fails at the tick SockRead after it began, and only a write that stalls does.
/// </summary>
[TestFixture]
public class WriteStallTimeoutTests : ReactiveTest
{
    [TestCase(2.0, 5.0, 1002.3, TestName = "A write stalled at 1000.3 s under SockRead 2 s fails at 1002.3 s")]
    [TestCase(6.0, 5.0, 1007.0, TestName = "A write stalled at 1000.3 s under SockRead 6 s fails at the ceiled 1007 s")]
    public async Task SockRead_fails_an_upload_the_server_stopped_reading_and_closes_the_connection(double sockRead, double threshold, double expected)
    {
        var scheduler = new SocketTestScheduler();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Accepts and never reads: the body fills both sides' buffers and the client's write waits for ever.
        System.Net.Sockets.Socket? accepted = null;
        await using var server = new RawServer(async c =>
        {
            Volatile.Write(ref accepted, c.Socket);
            await release.Task;
        });
        var connector = new TcpConnector(new TcpConnectorOptions { Scheduler = scheduler });
        using var session = new ClientSession(new ClientSessionOptions
        {
            Scheduler = scheduler,
            Connector = connector,
            Timeout = new ClientTimeout { SockRead = Span(sockRead), CeilThreshold = Span(threshold), Total = null },
        });
        scheduler.AdvanceTo(S(1000.3));
        var observer = scheduler.CreateObserver<ClientResponse>();
        using var _ = session.Post(server.Url(), new RequestOptions { Data = new byte[64 << 20] }).Subscribe(observer);

        // Stalled: the write is under the timer and the server's receive queue has stopped growing for a while.
        var last = -1L;
        var since = Stopwatch.StartNew();
        await Wait.Until(() =>
        {
            var now = Volatile.Read(ref accepted)?.Available ?? 0;
            if (now != last)
            {
                last = now;
                since.Restart();
            }
            return now > 0 && since.ElapsedMilliseconds > 300 && scheduler.IsPending(S(expected));
        }, what: "the upload to stall");
        Assert.That(last, Is.LessThan(64L << 20), "the body cannot all have gone out to a server that reads nothing");

        scheduler.AdvanceTo(S(expected) - 1);
        Assert.That(observer.Messages, Is.Empty);
        scheduler.AdvanceTo(S(expected));
        await Wait.Until(() => observer.Messages.Count == 1, what: "the write timeout");
        Assert.That(observer.Messages[0].Time, Is.EqualTo(S(expected)));
        Assert.That(observer.Messages[0].Value.Kind, Is.EqualTo(System.Reactive.NotificationKind.OnError));
        Assert.That(observer.Messages[0].Value.Exception, Is.InstanceOf<SocketTimeoutError>().And.InstanceOf<ServerTimeoutError>());
        await Wait.Until(() => connector.CurrentState is { Open: 0, InUse: 0, Idle: 0 }, what: "the connection to be closed, not pooled");
        release.SetResult();
    }

    [Test]
    public async Task An_upload_the_server_takes_slowly_but_steadily_is_not_cut_by_SockRead()
    {
        const int size = 48 << 20;
        const int step = 4 << 20;
        var scheduler = new SocketTestScheduler();
        const int body = size - 1024;
        var read = 0L;
        var steps = new SemaphoreSlim(0);
        // Reads one step of the body each time the test says; answers once the body is in.
        await using var server = new RawServer(async c =>
        {
            var buffer = new byte[64 << 10];
            while (Volatile.Read(ref read) < body)
            {
                await steps.WaitAsync();
                var target = Math.Min(Volatile.Read(ref read) + step, body);
                while (Volatile.Read(ref read) < target)
                {
                    var n = await c.Socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, target - Volatile.Read(ref read))));
                    if (n == 0) return;
                    Interlocked.Add(ref read, n);
                }
            }
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        });
        using var session = new ClientSession(new ClientSessionOptions
        {
            Scheduler = scheduler,
            Timeout = new ClientTimeout { SockRead = Span(1), Total = null },
        });
        scheduler.AdvanceTo(S(1000.3));
        var observer = scheduler.CreateObserver<ClientResponse>();
        // One body, so one write of it all: only the 64 KiB slices re-arm the timer.
        using var _ = session.Post(server.Url(), new RequestOptions { Data = new byte[body] }).Subscribe(observer);

        var now = 1000.3;
        while (Volatile.Read(ref read) < body)
        {
            var before = Volatile.Read(ref read);
            steps.Release();
            await Wait.Until(() => Volatile.Read(ref read) >= Math.Min(before + step, body) || observer.Messages.Count > 0, what: "the server to read its step");
            // The client took it in at this tick: a write (or the head's read, once the body is out) re-armed from now.
            await Wait.Until(() => scheduler.IsPending(S(now + 1)) || observer.Messages.Count > 0, what: "the client's next write");
            Assert.That(observer.Messages.Where(m => m.Value.Kind == System.Reactive.NotificationKind.OnError), Is.Empty, "a write that keeps moving is not cut");
            // 0.9 s between the server's reads: over SockRead's 1 s in all, none of the gaps.
            now += 0.9;
            scheduler.AdvanceTo(S(now));
        }
        await Wait.Until(() => observer.Messages.Count > 0, what: "the response");
        Assert.That(observer.Messages[0].Value.Kind, Is.EqualTo(System.Reactive.NotificationKind.OnNext), () => observer.Messages[0].Value.Exception?.ToString() ?? "");
        Assert.That(now - 1000.3, Is.GreaterThan(5), "the upload took several SockReads of virtual time");
    }
}
