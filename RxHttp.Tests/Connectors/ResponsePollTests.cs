using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A lone request on a server that has been answering within the pool's poll window waits for its response by
/// polling the socket instead of through the socket engine. The window (<see cref="ConnectorOptions.ResponsePollWindow"/>)
/// is mostly widened here, so that a busy test machine still counts as fast and each test knows which path its
/// requests take.
/// </summary>
[TestFixture]
public class ResponsePollTests
{
    // Wider than the option allows: a poll ends as soon as its answer comes, and a test machine stalled for
    // seconds (thread pool starved by the rest of the suite) still counts as answering within the window.
    private static readonly TimeSpan Wide = TimeSpan.FromSeconds(30);

    private static ClientSession Session(TimeSpan window, int limit = 100)
    {
        var session = new ClientSession(new ClientSessionOptions
        {
            Connector = new TcpConnector(new TcpConnectorOptions { ResponsePollWindow = window <= TimeSpan.FromSeconds(1) ? window : TimeSpan.Zero, Limit = limit }),
        });
        if (window > TimeSpan.FromSeconds(1)) session.Connector.ResponsePollTicks = (long)(window.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        return session;
    }

    // `times` GETs of the server's "ok", one after the other, each checked.
    private static async Task GetOk(ClientSession session, RawServer server, int times = 1)
    {
        for (var i = 0; i < times; i++)
            Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
    }

    [Test]
    public async Task A_lone_request_on_a_server_that_answers_within_the_window_polls_for_its_response()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var session = Session(Wide);
        await GetOk(session, server, 5);
        // The first request had no answer time to go by; the four after it polled.
        Assert.That(session.Connector.PolledResponses, Is.EqualTo(4));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
        Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(1).And.Property("InUse").EqualTo(0));
    }

    // Answers "ok" at once, except the slow-th request of the server's life, which waits 300 ms.
    private static RawServer AnswersOkWithOneSlow(int slow)
    {
        var answered = 0;
        return new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                if (Interlocked.Increment(ref answered) == slow) await Task.Delay(300);
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
    }

    [Test]
    public async Task After_an_answer_slower_than_the_window_requests_wait_through_the_socket_engine_until_answers_are_fast_again()
    {
        // The first answer takes 300 ms, the rest come at once; the window is 100 ms. The answer time is a moving
        // average (a quarter of each new answer), so it falls under 100 ms only after several fast answers.
        await using var server = AnswersOkWithOneSlow(1);
        await using var session = Session(TimeSpan.FromMilliseconds(100));
        await GetOk(session, server, 5);
        Assert.That(session.Connector.PolledResponses, Is.Zero, "at least 300, 225, 169, 127 ms going into requests 2 to 5: all over the window");
        await GetOk(session, server, 10);
        Assert.That(session.Connector.PolledResponses, Is.GreaterThan(0), "fast answers brought it under the window");
    }

    private static async Task<Connection> LeaseAsync(ClientSession session, RawServer server) =>
        await session.Connector.Connect(new ConnectionKey("127.0.0.1", server.Port, false)).FirstAsync();

    [Test]
    public async Task A_polled_plain_connection_keeps_its_receive_low_water_mark_raised_between_requests()
    {
        // Raised, the responses wake nobody but the polling thread (not the socket engine's epoll thread).
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var session = Session(Wide);
        await GetOk(session, server, 5);
        var c = await LeaseAsync(session, server);
        Assert.That(c.LowWater, Is.Not.Null);
        Assert.That(c.LowWater!.Raised, Is.True);
        c.Release();
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_response_slower_than_the_window_still_arrives_on_a_connection_whose_mark_was_raised()
    {
        // Fast answers until the connection polls, then one that takes 300 ms against a window of 100 ms: the poll
        // gives up and the read that waits through the socket engine must lower the mark first, or two bytes of body
        // would wake it never. (Fast: a machine loaded by the rest of the suite can answer slower than the window for
        // a while, so the test waits for the mark rather than counting on five answers.)
        var slowNext = 0;
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                if (Interlocked.Exchange(ref slowNext, 0) == 1) await Task.Delay(300);
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        await using var session = Session(TimeSpan.FromMilliseconds(100));
        Connection c;
        for (var fast = 1; ; fast++)
        {
            await GetOk(session, server);
            c = await LeaseAsync(session, server);
            if (c.LowWater!.Raised) break;
            c.Release();
            Assert.That(fast, Is.LessThan(500), "the fast answers were never polled for");
        }
        c.Release();
        Interlocked.Exchange(ref slowNext, 1);
        var slow = session.Get(server.Url()).SelectMany(r => r.Text()).ToTask();
        Assert.That(await slow.WaitAsync(TimeSpan.FromSeconds(20)), Is.EqualTo("ok"));
        Assert.That(c.LowWater.Raised, Is.False);
        await GetOk(session, server);
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_stray_byte_on_an_idle_connection_whose_mark_is_raised_makes_it_stale()
    {
        // Poll does not see a byte under the mark: the check before reuse asks FIONREAD too.
        var sendStray = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var straySent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answered = 0;
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                if (Interlocked.Increment(ref answered) != 3) continue;
                await sendStray.Task;
                await c.WriteAsync("X");
                straySent.SetResult();
            }
        });
        await using var session = Session(Wide);
        await GetOk(session, server, 3);
        var c = await LeaseAsync(session, server);
        Assert.That(c.LowWater!.Raised, Is.True);
        c.Release();
        sendStray.SetResult();
        await straySent.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Wait.Until(() => c.Socket!.Available == 1, what: "the stray byte to arrive");
        await GetOk(session, server);
        Assert.That(server.ConnectionCount, Is.EqualTo(2), "the connection with a stray byte was dropped, not reused");
        Assert.That(c.Closed, Is.True);
    }

    [Test]
    public async Task A_connection_handed_to_a_waiting_request_is_not_polled()
    {
        // Pool of one: the third request waits for the second one's connection and gets it from its release. The
        // server holds each answer until the test says so, so the polls can be counted between them.
        var secondArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answerSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answerThird = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = 0;
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                var n = Interlocked.Increment(ref requests);
                if (n == 2)
                {
                    secondArrived.SetResult();
                    await answerSecond.Task;
                }
                else if (n == 3) await answerThird.Task;
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        await using var session = Session(Wide, limit: 1);
        await GetOk(session, server);
        // Alone, so it may poll (on the subscribing thread, for up to the window: not the test's).
        var second = Task.Run(() => session.Get(server.Url()).SelectMany(r => r.Text()).ToTask());
        await secondArrived.Task.WaitAsync(TimeSpan.FromSeconds(5));
        var third = session.Get(server.Url()).SelectMany(r => r.Text()).ToTask();
        // Subscribed while the second is out, it starts on the thread pool (DeferredStart).
        await Wait.Until(() => session.Connector.CurrentState.Waiting == 1, what: "the third request to queue");
        answerSecond.SetResult();
        Assert.That(await second, Is.EqualTo("ok"));
        var polled = session.Connector.PolledResponses;
        answerThird.SetResult();
        Assert.That(await third, Is.EqualTo("ok"));
        Assert.That(session.Connector.PolledResponses, Is.EqualTo(polled), "the handed-over connection was not polled");
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_zero_window_turns_polling_off()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var session = Session(TimeSpan.Zero);
        await GetOk(session, server, 5);
        Assert.That(session.Connector.PolledResponses, Is.Zero);
    }

    [TestCase(-1)]
    [TestCase(1001)]
    public void A_window_below_zero_or_over_a_second_is_refused(int milliseconds)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TcpConnector(new TcpConnectorOptions { ResponsePollWindow = TimeSpan.FromMilliseconds(milliseconds) }));
    }

    [Test]
    public async Task Beside_another_request_nobody_polls()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var other = new RawServer(c => c.WaitForCloseAsync());
        await using var session = Session(Wide);
        var held = await session.Connector.Connect(new ConnectionKey("127.0.0.1", other.Port, false)).FirstAsync();
        try
        {
            await GetOk(session, server, 5);
            Assert.That(session.Connector.PolledResponses, Is.Zero, "the CPU belongs to the other requests");
        }
        finally
        {
            held.Close();
        }
    }

    [Test]
    public async Task TLS_connections_are_polled_for_readability_and_read_through_the_stream()
    {
        // Bytes on a TLS socket are records, not the response: the poll only waits for them; SslStream reads them.
        await using var server = await KestrelServer.StartAsync(certificate: KestrelServer.MakeCertificate());
        await using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = new TcpConnector(new TcpConnectorOptions { Tls = TlsOptions.NoVerify, ResponsePollWindow = TimeSpan.FromSeconds(1) }),
        });
        for (var i = 0; i < 5; i++)
            Assert.That(await session.Get(server.Url("hello")).SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
        Assert.That(session.Connector.PolledResponses, Is.GreaterThan(0));
    }

    // The first connection answers one request and closes on the next; later connections answer everything.
    private static RawServer ClosesOnItsSecondRequest()
    {
        var connections = 0;
        return new RawServer(async c =>
        {
            var first = Interlocked.Increment(ref connections) == 1;
            var answered = 0;
            while (await c.ReadRequestAsync() is not null)
            {
                if (first && answered == 1)
                {
                    c.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
                    return;
                }
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                answered++;
            }
        });
    }

    [Test]
    public async Task A_server_that_closes_instead_of_answering_is_seen_by_the_poll_and_a_GET_is_retried_on_a_new_connection()
    {
        await using var server = ClosesOnItsSecondRequest();
        await using var session = Session(Wide);
        await GetOk(session, server);
        await GetOk(session, server);
        Assert.That(server.ConnectionCount, Is.EqualTo(2), "retried once on a fresh connection");
        Assert.That(session.Connector.PolledResponses, Is.EqualTo(1), "the EOF was picked up by the poll, not after the window");
        Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(1).And.Property("InUse").EqualTo(0));
    }

    [Test]
    public async Task A_POST_on_a_connection_closed_during_the_poll_fails_with_ServerDisconnectedError()
    {
        await using var server = ClosesOnItsSecondRequest();
        await using var session = Session(Wide);
        Assert.That(await session.Post(server.Url(), new RequestOptions { Data = "a" }).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.ThrowsAsync<ServerDisconnectedError>(async () => await session.Post(server.Url(), new RequestOptions { Data = "b" }));
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "a POST is not retried");
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0 }, what: "the dead connection to be dropped");
    }
}
