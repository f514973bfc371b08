using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// Rx keeps work scheduled at an absolute time queued until that time even once it is cancelled, so a timer per
/// handshake or per message that goes straight to the scheduler leaves a dead entry behind for its whole length (300 s
/// for the total timeout, a heartbeat for each message). These timers go through the timer wheel: the scheduler sees
/// one action per whole second, however many connects or messages arm them.
/// </summary>
[TestFixture]
public class WsTimerQueueTests
{
    [Test]
    public async Task Twenty_handshakes_schedule_their_total_and_sock_connect_deadlines_once_per_second_not_once_each()
    {
        await using var server = await WsServers.StartKestrelAsync();
        var clock = new AbsoluteCountingScheduler();
        await using var session = new ClientSession(new ClientSessionOptions { Scheduler = clock });
        var started = clock.Now;
        for (var i = 0; i < 20; i++)
        {
            await using var ws = await session.WsConnectAsync(EchoUrl(server));
            await ws.SendStr("x");
            Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("x"));
        }
        // Both deadlines (Total 300 s, SockConnect 30 s) are ceiled to whole seconds: one action per timeout and second.
        Assert.That(clock.Absolute, Is.LessThanOrEqualTo(2 * clock.SecondsSince(started)), "twenty handshakes scheduled one deadline each");
        Assert.That(clock.Absolute, Is.GreaterThan(0), "the deadlines are on this clock");
    }

    [TestCase(false, TestName = "A_hundred_messages_restart_the_heartbeat_without_scheduling_a_hundred_actions")]
    [TestCase(true, TestName = "A_hundred_messages_under_a_receive_timeout_and_a_heartbeat_set_no_timer_per_message")]
    public async Task A_hundred_messages_set_no_timer_per_message(bool receiveTimeout)
    {
        await using var server = await WsServers.StartKestrelAsync();
        var clock = new AbsoluteCountingScheduler();
        await using var session = new ClientSession(new ClientSessionOptions { Scheduler = clock });
        var options = new WsConnectOptions
        {
            Heartbeat = TimeSpan.FromSeconds(30),
            Timeout = receiveTimeout ? new WsTimeout { WsReceive = TimeSpan.FromSeconds(3) } : WsTimeout.Default,
        };
        await using var ws = await session.WsConnectAsync(EchoUrl(server), options);
        var before = clock.Absolute + clock.Relative;
        var started = clock.Now;
        for (var i = 0; i < 100; i++)
        {
            await ws.SendStr("m" + i);
            Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("m" + i));
        }
        // Each timer goes back on the clock only when it comes due and finds its deadline moved: for the 3 s receive
        // timeout, about once per 3 s; the 30 s heartbeat not at all in this time.
        Assert.That(clock.Absolute + clock.Relative - before, Is.LessThanOrEqualTo(clock.SecondsSince(started)), "each message re-armed a timer");
        Assert.That(ws.Closed, Is.False);
    }

    private static string EchoUrl(KestrelServer server) => server.Url("ws/echo").Replace("http://", "ws://");
}
