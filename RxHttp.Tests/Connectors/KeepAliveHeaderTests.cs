using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>A server's <c>Keep-Alive: timeout=N</c> shortens how long its connection idles in the pool.</summary>
public class KeepAliveHeaderTests
{
    [TestCase("Keep-Alive: timeout=2\r\n", 2)]
    [TestCase("Keep-Alive: timeout=2, max=100\r\n", 2)]
    [TestCase("Keep-Alive: timeout=60\r\n", 15)] // longer than the connector's 15 s: the connector wins
    [TestCase("", 15)]
    public async Task Idle_expiry_follows_the_shorter_of_server_and_connector(string header, int seconds)
    {
        await using var server = RawServer.Respond($"HTTP/1.1 200 OK\r\n{header}Content-Length: 2\r\n\r\nok");
        var scheduler = new SocketTestScheduler();
        scheduler.AdvanceTo(TimeSpan.FromSeconds(1000).Ticks); // a whole second, so the 15 s ceiling lands exactly
        await using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler });
        await session.Get(server.Url()).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20));
        await Wait.Until(() => session.Connector.CurrentState.Idle == 1, what: "the connection to go idle");

        scheduler.AdvanceTo(TimeSpan.FromSeconds(1000 + seconds).Ticks - 1);
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1), "still pooled one tick before expiry");
        scheduler.AdvanceTo(TimeSpan.FromSeconds(1000 + seconds).Ticks);
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(0), "closed exactly at the expiry tick");
        await server.ClientClosed.Task.Within();
    }

    // Our own keep-alive is ceiled to a whole second as aiohttp's cleanup is, but the server's timeout is when it
    // closes: rounded up, the connection would idle past it, and a request sent then raced the server's close.
    [TestCase("Keep-Alive: timeout=6\r\n", 1006.5)]
    [TestCase("", 1016)]
    public async Task The_servers_timeout_is_not_rounded_up_past_the_servers_close(string header, double expiry)
    {
        await using var server = RawServer.Respond($"HTTP/1.1 200 OK\r\n{header}Content-Length: 2\r\n\r\nok");
        var scheduler = new SocketTestScheduler();
        scheduler.AdvanceTo(TimeSpan.FromSeconds(1000.5).Ticks); // half a second: a ceiling would move the expiry
        await using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler });
        await session.Get(server.Url()).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20));
        await Wait.Until(() => session.Connector.CurrentState.Idle == 1, what: "the connection to go idle");

        scheduler.AdvanceTo(TimeSpan.FromSeconds(expiry).Ticks - 1);
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1), "still pooled one tick before expiry");
        scheduler.AdvanceTo(TimeSpan.FromSeconds(expiry).Ticks);
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(0), "closed exactly at the expiry tick");
        await server.ClientClosed.Task.Within();
    }

    [Test]
    public async Task A_server_keepalive_timeout_of_zero_closes_the_connection_after_its_response()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=0\r\nContent-Length: 2\r\n\r\nok");
        // Virtual time that never moves: only the release itself can keep the connection from being reused.
        var scheduler = new SocketTestScheduler();
        await using var session = new ClientSession(new ClientSessionOptions { Scheduler = scheduler });
        for (var i = 0; i < 2; i++)
            Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2), "the server keeps an idle connection for zero seconds: no reuse");
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(0));
    }
}
