using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Pipeline;
using RxHttp.Tests.Support;
using static RxHttp.Tests.Pipeline.Ticks;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A request on a reused plain connection starts its response read when it leases the connection, before the
/// request is written (instead of a Poll syscall to find stale connections). These pin down what that read must
/// still honour: stale detection, cancellation before the head, and the SockRead timer, over real sockets.
/// </summary>
[TestFixture]
public class ReadAheadTests : ReactiveTest
{
    // Answers every request with "ok"; on the first connection, after its first answer, also says what the test
    // passes as stray (bytes nobody asked for), which makes that connection unusable.
    private static RawServer StrayBytesServer(string stray, TaskCompletionSource straySent)
    {
        var connection = 0;
        return new RawServer(async c =>
        {
            var mine = Interlocked.Increment(ref connection);
            var first = true;
            while (await c.ReadRequestAsync() is not null)
            {
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                if (mine == 1 && first)
                {
                    await c.WriteAsync(stray);
                    straySent.TrySetResult();
                }
                first = false;
            }
        });
    }

    [Test]
    public async Task An_idle_connection_that_received_stray_bytes_is_dropped_and_the_request_goes_out_on_a_new_one()
    {
        var straySent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = StrayBytesServer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale", straySent);
        await using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        await straySent.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(50); // let the bytes cross loopback (a guard, not a timing assertion)

        // A POST is not retried, so only the check at lease time can keep it off the spoiled connection.
        Assert.That(await session.Post(server.Url(), new RequestOptions { Data = "x" }).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(5)); // the spoiled one was closed
        Assert.That(session.Connector.CurrentState is { InUse: 0, Idle: 1 }, Is.True);
    }

    [Test]
    public async Task Many_requests_in_a_row_reuse_one_connection()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var session = new ClientSession();
        for (var i = 0; i < 50; i++)
            Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
        Assert.That(session.Connector.CurrentState is { InUse: 0, Idle: 1 }, Is.True);
    }

    // A server whose first request is answered at once and whose second is only read: the second request waits
    // on the read started at lease time.
    private static RawServer AnswerOnceThenHang(TaskCompletionSource secondSeen) => new(async c =>
    {
        if (await c.ReadRequestAsync() is null) return;
        await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        if (await c.ReadRequestAsync() is null) return;
        secondSeen.TrySetResult();
        await c.WaitForCloseAsync();
    });

    [Test]
    public async Task Disposing_before_the_head_on_a_reused_connection_closes_it_and_frees_the_slot()
    {
        var secondSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = AnswerOnceThenHang(secondSeen);
        await using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));

        var events = new List<string>();
        var subscription = session.Get(server.Url()).Subscribe(_ => events.Add("next"), e => events.Add("error " + e.GetType().Name), () => events.Add("completed"));
        await secondSeen.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "the second request went out on the reused connection");
        subscription.Dispose();

        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0 }, what: "the pool slot to be freed");
        Assert.That(events, Is.Empty, "a disposed subscription hears nothing");
    }

    [TestCase(1.0, 5.0, 1001.3, TestName = "SockRead 1 s on a reused connection at 1000.3 s fires at 1001.3 s")]
    [TestCase(6.0, 5.0, 1007.0, TestName = "SockRead 6 s on a reused connection is ceiled to 1007 s")]
    public async Task SockRead_bounds_the_wait_for_the_head_on_a_reused_connection(double sockRead, double threshold, double expected)
    {
        var scheduler = new TestScheduler();
        var secondSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = AnswerOnceThenHang(secondSeen);
        await using var session = new ClientSession(new ClientSessionOptions
        {
            Scheduler = scheduler,
            Timeout = new ClientTimeout { SockRead = Span(sockRead), CeilThreshold = Span(threshold) },
        });
        scheduler.AdvanceTo(S(1000.3));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));

        var observer = scheduler.CreateObserver<ClientResponse>();
        using var _ = session.Get(server.Url()).Subscribe(observer);
        await secondSeen.Task.WaitAsync(TimeSpan.FromSeconds(5));
        var fired = await FiresExactlyAt(scheduler, observer, S(expected), "the read timeout");
        Assert.That(fired.Exception, Is.InstanceOf<SocketTimeoutError>());
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "it timed out on the reused connection");
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0 }, what: "the pool slot to be freed");
    }

    [Test]
    public async Task A_server_that_closes_right_after_reading_the_request_is_retried_for_a_GET()
    {
        // The read started at lease time sees the EOF: the GET is retried once on a new connection, as before.
        var connection = 0;
        await using var server = new RawServer(async c =>
        {
            var mine = Interlocked.Increment(ref connection);
            if (await c.ReadRequestAsync() is null) return;
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            if (await c.ReadRequestAsync() is null) return;
            if (mine == 1)
            {
                c.Socket.Close();
                return;
            }
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        await using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }
}
