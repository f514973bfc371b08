using System.Reactive;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;
using static RxHttp.Tests.Pipeline.Ticks;

namespace RxHttp.Tests.Pipeline;

/// <summary>The Connect timeout (Http1Exchange.AcquireAsync) and SockRead (Connection's ReadTimer) in virtual time over real sockets.</summary>
[TestFixture]
public class SocketTimeoutTests : ReactiveTest
{
    [TestCase(2.0, 5.0, 1002.3, TestName = "Connect 2 s waiting for the pool at 1000.3 s fires at 1002.3 s")]
    [TestCase(5.0, 5.0, 1006.0, TestName = "Connect 5 s (= threshold) at 1000.3 s is ceiled to 1006 s")]
    public async Task Connect_timeout_covers_waiting_for_a_pool_slot(double connect, double threshold, double expected)
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        var connector = new TcpConnector(new TcpConnectorOptions { Limit = 1, Scheduler = scheduler });
        using var session = new ClientSession(new ClientSessionOptions
        {
            Scheduler = scheduler,
            Connector = connector,
            Timeout = new ClientTimeout { Connect = Span(connect), CeilThreshold = Span(threshold) },
        });
        scheduler.AdvanceTo(S(1000.3));
        var first = scheduler.CreateObserver<ClientResponse>();
        using var holder = session.Get(server.Url()).Subscribe(first);
        await server.RequestSeen.WaitAsync(TimeSpan.FromSeconds(10));

        var second = scheduler.CreateObserver<ClientResponse>();
        using var waiting = session.Get(server.Url()).Subscribe(second);
        await Wait.Until(() => connector.CurrentState.Waiting == 1, what: "the second request to queue");

        scheduler.AdvanceTo(S(expected) - 1);
        Assert.That(second.Messages, Is.Empty);
        scheduler.AdvanceTo(S(expected));
        await Wait.Until(() => second.Messages.Count == 1, what: "the connect timeout");
        Assert.That(second.Messages[0].Time, Is.EqualTo(S(expected)));
        Assert.That(second.Messages[0].Value.Exception, Is.InstanceOf<ConnectionTimeoutError>().And.InstanceOf<ServerTimeoutError>());
        Assert.That(connector.CurrentState.Waiting, Is.EqualTo(0), "the waiter left the queue");
        Assert.That(first.Messages, Is.Empty, "the first request is untouched");
    }

    [Test]
    public async Task Connect_timer_stops_once_the_lease_arrives()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler, Timeout = new ClientTimeout { Connect = Span(2) } });
        var observer = scheduler.CreateObserver<ClientResponse>();
        using var _ = session.Get(server.Url()).Subscribe(observer);
        await server.RequestSeen.WaitAsync(TimeSpan.FromSeconds(10));
        scheduler.AdvanceTo(S(60));
        Assert.That(observer.Messages, Is.Empty, "a connected request is no longer under the Connect timeout");
    }

    private static async Task<(SocketTestScheduler, SteppedServer, ClientSession, ITestableObserver<ClientResponse>)> StartSockRead(double sockRead, double threshold = 5)
    {
        var scheduler = new SocketTestScheduler();
        var server = new SteppedServer();
        var session = new ClientSession(new ClientSessionOptions
        {
            Scheduler = scheduler,
            Timeout = new ClientTimeout { SockRead = Span(sockRead), CeilThreshold = Span(threshold) },
        });
        scheduler.AdvanceTo(S(1000.3));
        var observer = scheduler.CreateObserver<ClientResponse>();
        session.Get(server.Url()).Subscribe(observer);
        await server.RequestSeen.WaitAsync(TimeSpan.FromSeconds(10));
        return (scheduler, server, session, observer);
    }

    [TestCase(1.0, 5.0, 1001.3, TestName = "SockRead 1 s waiting for the head at 1000.3 s fires at 1001.3 s")]
    [TestCase(6.0, 5.0, 1007.0, TestName = "SockRead 6 s (over the threshold) is ceiled to 1007 s")]
    [TestCase(6.0, 10.0, 1006.3, TestName = "SockRead 6 s under a 10 s session threshold stays exact")]
    public async Task SockRead_fires_while_waiting_for_the_head(double sockRead, double threshold, double expected)
    {
        var (scheduler, server, session, observer) = await StartSockRead(sockRead, threshold);
        await using var _s = server;
        using var _ = session;
        var fired = await FiresExactlyAt(scheduler, observer, S(expected), "the read timeout");
        Assert.That(fired.Exception, Is.InstanceOf<SocketTimeoutError>().And.InstanceOf<ServerTimeoutError>());
        await server.Server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0 }, what: "the pool slot to be freed");
    }

    [TestCase(0.9, true, TestName = "A chunk every 0.9 s under SockRead 1 s succeeds")]
    [TestCase(1.1, false, TestName = "A chunk every 1.1 s under SockRead 1 s fails")]
    public async Task SockRead_is_rearmed_by_every_chunk(double gap, bool succeeds)
    {
        var (scheduler, server, session, observer) = await StartSockRead(1.0);
        await using var _s = server;
        using var _ = session;
        var now = 1000.3;
        await Wait.Until(() => scheduler.IsPending(S(now + 1)), what: "the head read timer");

        now += gap;
        scheduler.AdvanceTo(S(now));
        if (!succeeds)
        {
            await Wait.Until(() => observer.Messages.Count == 1, what: "the head timeout");
            Assert.That(observer.Messages[0].Value.Exception, Is.InstanceOf<SocketTimeoutError>());
            return;
        }
        await server.SendAsync(SteppedServer.ChunkedHead + SteppedServer.Chunk("c0;"));
        await Wait.Until(() => observer.Messages.Count == 2, what: "the response head");
        var response = observer.Messages[0].Value.Value!;

        var received = new StringBuilder();
        var chunkCount = 0;
        Exception? error = null;
        var reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var c in response.IterChunked())
                {
                    lock (received) received.Append(Encoding.ASCII.GetString(c.Span));
                    Interlocked.Increment(ref chunkCount);
                }
            }
            catch (Exception e) { error = e; }
        });
        for (var i = 1; i <= 4; i++)
        {
            await Wait.Until(() => Volatile.Read(ref chunkCount) == i, what: $"chunk {i - 1}");
            await Wait.Until(() => scheduler.IsPending(S(now + 1)), what: "the read timer re-armed from the last chunk");
            now += gap;
            scheduler.AdvanceTo(S(now));
            await server.SendAsync(i < 4 ? SteppedServer.Chunk($"c{i};") : "0\r\n\r\n");
        }
        await reading.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(error, Is.Null);
        Assert.That(received.ToString(), Is.EqualTo("c0;c1;c2;c3;"));
        Assert.That(scheduler.Clock, Is.EqualTo(S(1000.3 + 5 * gap)), "4.5 s of virtual time passed with a 1 s read timeout");
    }

    [Test]
    public async Task SockRead_fires_between_body_chunks_to_the_tick()
    {
        var (scheduler, server, session, observer) = await StartSockRead(1.0);
        await using var _s = server;
        using var _ = session;
        await server.SendAsync(SteppedServer.ChunkedHead + SteppedServer.Chunk("c0;"));
        await Wait.Until(() => observer.Messages.Count == 2, what: "the response head");
        var response = observer.Messages[0].Value.Value!;
        var chunks = 0;
        Exception? error = null;
        var reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var c in response.IterChunked()) Interlocked.Increment(ref chunks);
            }
            catch (Exception e) { error = e; }
        });
        await Wait.Until(() => Volatile.Read(ref chunks) == 1 && scheduler.IsPending(S(1001.3)), what: "the timer armed for the second chunk");
        scheduler.AdvanceTo(S(1001.3) - 1);
        Assert.That(response.Closed, Is.False);
        scheduler.AdvanceTo(S(1001.3));
        await reading.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(error, Is.InstanceOf<SocketTimeoutError>());
        Assert.That(response.Closed, Is.True);
        await server.Server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
