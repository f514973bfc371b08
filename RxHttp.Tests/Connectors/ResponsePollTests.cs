using System.Diagnostics;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A lone request on a server that has been answering within the pool's poll window waits for its response by
/// polling the socket instead of through the socket engine. The window is widened to a second here, so that a busy
/// test machine still counts as fast and each test knows which path its requests take.
/// </summary>
[TestFixture]
public class ResponsePollTests
{
    private static readonly long Second = Stopwatch.Frequency;

    private static ClientSession Session(long windowTicks)
    {
        var session = new ClientSession();
        session.Connector.ResponsePollTicks = windowTicks;
        return session;
    }

    [Test]
    public async Task A_lone_request_on_a_server_that_answers_within_the_window_polls_for_its_response()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var session = Session(Second);
        for (var i = 0; i < 5; i++)
            Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        // The first request had no answer time to go by; the four after it polled.
        Assert.That(session.Connector.PolledResponses, Is.EqualTo(4));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
        Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(1).And.Property("InUse").EqualTo(0));
    }

    [Test]
    public async Task After_an_answer_slower_than_the_window_requests_wait_through_the_socket_engine_until_answers_are_fast_again()
    {
        // The first answer takes 100 ms, the rest come at once; the window is 20 ms. The answer time is a moving
        // average (a quarter of each new answer), so it falls under 20 ms only after several fast answers.
        var answered = 0;
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                if (Interlocked.Increment(ref answered) == 1) await Task.Delay(100);
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        await using var session = Session(Second / 50);
        for (var i = 0; i < 5; i++)
            Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(session.Connector.PolledResponses, Is.Zero, "100, 75, 56, 42, 32 ms: all over the window");
        for (var i = 0; i < 10; i++)
            Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(session.Connector.PolledResponses, Is.GreaterThan(0), "fast answers brought it under the window");
    }

    [Test]
    public async Task A_connection_handed_to_a_waiting_request_is_not_polled()
    {
        // Pool of one: the third request waits for the second one's connection and gets it from its release.
        var secondArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thirdQueued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = 0;
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                if (Interlocked.Increment(ref requests) == 2)
                {
                    secondArrived.SetResult();
                    await thirdQueued.Task;
                }
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        await using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Limit = 1 }) });
        session.Connector.ResponsePollTicks = Second;
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        // Alone, so it polls, on the thread that subscribes (for up to the window): not the test's.
        var second = Task.Run(() => session.Get(server.Url()).SelectMany(r => r.Text()).ToTask());
        await secondArrived.Task.WaitAsync(TimeSpan.FromSeconds(5));
        var third = session.Get(server.Url()).SelectMany(r => r.Text()).ToTask();
        Assert.That(session.Connector.CurrentState.Waiting, Is.EqualTo(1), "the third request queued");
        thirdQueued.SetResult();
        Assert.That(await second, Is.EqualTo("ok"));
        Assert.That(await third, Is.EqualTo("ok"));
        Assert.That(session.Connector.PolledResponses, Is.EqualTo(1), "only the request that leased the idle connection alone");
    }

    [Test]
    public async Task Beside_another_request_nobody_polls()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var other = new RawServer(c => c.WaitForCloseAsync());
        await using var session = Session(Second);
        var held = await session.Connector.Connect(new ConnectionKey("127.0.0.1", other.Port, false)).FirstAsync();
        try
        {
            for (var i = 0; i < 5; i++)
                Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
            Assert.That(session.Connector.PolledResponses, Is.Zero, "the CPU belongs to the other requests");
        }
        finally
        {
            held.Close();
        }
    }

    [Test]
    public async Task A_server_that_closes_instead_of_answering_is_seen_by_the_poll_and_a_GET_is_retried_on_a_new_connection()
    {
        // First connection: answers one request, then closes on the next; later connections answer everything.
        var connections = 0;
        await using var server = new RawServer(async c =>
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
        await using var session = Session(Second);
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2), "retried once on a fresh connection");
        Assert.That(session.Connector.PolledResponses, Is.EqualTo(1), "the EOF was picked up by the poll, not after the window");
        Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(1).And.Property("InUse").EqualTo(0));
    }

    [Test]
    public async Task A_POST_on_a_connection_closed_during_the_poll_fails_with_ServerDisconnectedError()
    {
        var connections = 0;
        await using var server = new RawServer(async c =>
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
        await using var session = Session(Second);
        Assert.That(await session.Post(server.Url(), new RequestOptions { Data = "a" }).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.ThrowsAsync<ServerDisconnectedError>(async () => await session.Post(server.Url(), new RequestOptions { Data = "b" }));
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "a POST is not retried");
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0 }, what: "the dead connection to be dropped");
    }
}
