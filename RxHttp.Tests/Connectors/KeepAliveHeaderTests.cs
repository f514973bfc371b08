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
}
