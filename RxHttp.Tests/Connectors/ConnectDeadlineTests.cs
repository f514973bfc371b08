using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// <see cref="ClientTimeout.Connect"/> runs on the timer wheel, as the request's other timeouts do: a new connection
/// leaves no cancelled deadline queued on the scheduler (Rx's <c>Timeout</c> left one per connection).
/// </summary>
[TestFixture]
public class ConnectDeadlineTests
{
    [Test]
    public async Task Twenty_new_connections_with_a_Connect_timeout_schedule_their_deadlines_once_per_second_not_once_each()
    {
        await using var server = await KestrelServer.StartAsync();
        var clock = new AbsoluteCountingScheduler();
        using var session = new ClientSession(new ClientSessionOptions
        {
            Scheduler = clock,
            Connector = new TcpConnector(new TcpConnectorOptions { ForceClose = true, Scheduler = clock }),
            Timeout = new ClientTimeout { Total = TimeSpan.FromSeconds(300), Connect = TimeSpan.FromSeconds(10), SockConnect = TimeSpan.FromSeconds(30) },
        });
        var started = clock.Now;
        for (var i = 0; i < 20; i++)
            Assert.That(await session.Get(server.Url("hello")).SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        // Total, Connect and SockConnect are each ceiled to a whole second: one action per timeout and second.
        var seconds = clock.SecondsSince(started);
        Assert.That(clock.Absolute, Is.LessThanOrEqualTo(3 * seconds), "twenty connections scheduled a Connect deadline each");
        Assert.That(clock.Absolute, Is.GreaterThan(0), "the deadlines are on this clock");
    }
}
