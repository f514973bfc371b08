using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Pipeline;
using RxHttp.Tests.Support;
using static RxHttp.Tests.Pipeline.Ticks;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A request that leases an idle plain connection checks it is not stale in one of two ways: alone, with a Poll;
/// beside other requests in flight, by starting its response read before the request is written (read-ahead).
/// Each test runs both ways and pins down what either must honour: stale detection, cancellation before the
/// head, and the SockRead timer, over real sockets.
/// </summary>
[TestFixture]
public class ReadAheadTests : ReactiveTest
{
    /// <summary>
    /// With <paramref name="beside"/>, holds a lease on a connection to another server for the test's length, so
    /// that the connector has a request in flight and the test's requests take the read-ahead path.
    /// </summary>
    private sealed class Mode : IAsyncDisposable
    {
        private readonly RawServer? _other;
        private readonly Connection? _held;
        private readonly ClientSession _session;
        private readonly long _readAheadsBefore;

        private Mode(ClientSession session, RawServer? other, Connection? held)
        {
            _session = session;
            _other = other;
            _held = held;
            _readAheadsBefore = session.Connector.ReadAheads;
        }

        public static async Task<Mode> StartAsync(ClientSession session, bool beside)
        {
            if (!beside) return new Mode(session, null, null);
            var other = new RawServer(c => c.WaitForCloseAsync());
            var held = await session.Connector.Connect(new ConnectionKey("127.0.0.1", other.Port, false)).FirstAsync();
            return new Mode(session, other, held);
        }

        /// <summary>The leases the test itself does not account for.</summary>
        public int Held => _held is null ? 0 : 1;

        /// <summary>Asserts that the requests so far used the path this mode is for.</summary>
        public void AssertPathTaken()
        {
            var readAheads = _session.Connector.ReadAheads - _readAheadsBefore;
            if (_held is null) Assert.That(readAheads, Is.Zero, "alone, a lease is checked with a Poll");
            else Assert.That(readAheads, Is.GreaterThan(0), "beside another request, a lease starts the read-ahead");
        }

        public async ValueTask DisposeAsync()
        {
            _held?.Close();
            if (_other is not null) await _other.DisposeAsync();
        }
    }

    // Answers every request with "ok"; on the first connection, once the test says its first answer was read (so the
    // bytes cannot arrive with it), also says what the test passes as stray, which makes that connection unusable.
    private static RawServer StrayBytesServer(string stray, Task firstAnswerRead, TaskCompletionSource straySent)
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
                    await firstAnswerRead;
                    await c.WriteAsync(stray);
                    straySent.TrySetResult();
                }
                first = false;
            }
        });
    }

    [Test]
    public async Task An_idle_connection_that_received_stray_bytes_is_dropped_and_the_request_goes_out_on_a_new_one([Values] bool beside)
    {
        var straySent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstAnswerRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = StrayBytesServer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale", firstAnswerRead.Task, straySent);
        await using var session = new ClientSession();
        await using var mode = await Mode.StartAsync(session, beside);
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1), "the first connection went back to the pool");
        firstAnswerRead.SetResult();
        await straySent.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(50); // let the bytes cross loopback (a guard, not a timing assertion)

        // A POST is not retried, so only the check at lease time can keep it off the spoiled connection.
        Assert.That(await session.Post(server.Url(), new RequestOptions { Data = "x" }).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(5)); // the spoiled one was closed
        Assert.That(session.Connector.CurrentState.InUse, Is.EqualTo(mode.Held));
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1));
        mode.AssertPathTaken();
    }

    [Test]
    public async Task Many_requests_in_a_row_reuse_one_connection([Values] bool beside)
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var session = new ClientSession();
        await using var mode = await Mode.StartAsync(session, beside);
        for (var i = 0; i < 50; i++)
            Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
        Assert.That(session.Connector.CurrentState.InUse, Is.EqualTo(mode.Held));
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1));
        mode.AssertPathTaken();
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
    public async Task Disposing_before_the_head_on_a_reused_connection_closes_it_and_frees_the_slot([Values] bool beside)
    {
        var secondSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = AnswerOnceThenHang(secondSeen);
        await using var session = new ClientSession();
        await using var mode = await Mode.StartAsync(session, beside);
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));

        var events = new List<string>();
        var subscription = session.Get(server.Url()).Subscribe(_ => events.Add("next"), e => events.Add("error " + e.GetType().Name), () => events.Add("completed"));
        await secondSeen.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "the second request went out on the reused connection");
        subscription.Dispose();

        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Wait.Until(() => session.Connector.CurrentState.InUse == mode.Held && session.Connector.CurrentState.Idle == 0, what: "the pool slot to be freed");
        Assert.That(events, Is.Empty, "a disposed subscription hears nothing");
        mode.AssertPathTaken();
    }

    [TestCase(1.0, 5.0, 1001.3, false, TestName = "SockRead 1 s on a reused connection at 1000.3 s fires at 1001.3 s (alone)")]
    [TestCase(6.0, 5.0, 1007.0, false, TestName = "SockRead 6 s on a reused connection is ceiled to 1007 s (alone)")]
    [TestCase(1.0, 5.0, 1001.3, true, TestName = "SockRead 1 s on a reused connection at 1000.3 s fires at 1001.3 s (beside another request)")]
    [TestCase(6.0, 5.0, 1007.0, true, TestName = "SockRead 6 s on a reused connection is ceiled to 1007 s (beside another request)")]
    public async Task SockRead_bounds_the_wait_for_the_head_on_a_reused_connection(double sockRead, double threshold, double expected, bool beside)
    {
        var scheduler = new SocketTestScheduler();
        var secondSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = AnswerOnceThenHang(secondSeen);
        await using var session = new ClientSession(new ClientSessionOptions
        {
            Scheduler = scheduler,
            Timeout = new ClientTimeout { SockRead = Span(sockRead), CeilThreshold = Span(threshold) },
        });
        await using var mode = await Mode.StartAsync(session, beside);
        scheduler.AdvanceTo(S(1000.3));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));

        var observer = scheduler.CreateObserver<ClientResponse>();
        using var _ = session.Get(server.Url()).Subscribe(observer);
        await secondSeen.Task.WaitAsync(TimeSpan.FromSeconds(5));
        var fired = await FiresExactlyAt(scheduler, observer, S(expected), "the read timeout");
        Assert.That(fired.Exception, Is.InstanceOf<SocketTimeoutError>());
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "it timed out on the reused connection");
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Wait.Until(() => session.Connector.CurrentState.InUse == mode.Held && session.Connector.CurrentState.Idle == 0, what: "the pool slot to be freed");
        mode.AssertPathTaken();
    }

    [Test]
    public async Task A_server_that_closes_right_after_reading_the_request_is_retried_for_a_GET([Values] bool beside)
    {
        // The response read (started at lease time, or after the write) sees the EOF: the GET is retried once on a new connection.
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
        await using var mode = await Mode.StartAsync(session, beside);
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
        mode.AssertPathTaken();
    }
}
