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
        var started = DateTimeOffset.UtcNow;
        for (var i = 0; i < 20; i++)
        {
            await using var ws = await session.WsConnectAsync(server.Url("ws/echo").Replace("http://", "ws://"));
            await ws.SendStr("x");
            Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("x"));
        }
        // Both deadlines (Total 300 s, SockConnect 30 s) are ceiled to whole seconds: one action per timeout and second.
        var seconds = (int)Math.Ceiling((DateTimeOffset.UtcNow - started).TotalSeconds) + 1;
        Assert.That(clock.Absolute, Is.LessThanOrEqualTo(2 * seconds), "twenty handshakes scheduled one deadline each");
        Assert.That(clock.Absolute, Is.GreaterThan(0), "the deadlines are on this clock");
    }

    [Test]
    public async Task A_hundred_messages_restart_the_heartbeat_without_scheduling_a_hundred_actions()
    {
        await using var server = await WsServers.StartKestrelAsync();
        var clock = new AbsoluteCountingScheduler();
        await using var session = new ClientSession(new ClientSessionOptions { Scheduler = clock });
        await using var ws = await session.WsConnectAsync(server.Url("ws/echo").Replace("http://", "ws://"), new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(30) });
        var before = clock.Absolute;
        var started = DateTimeOffset.UtcNow;
        for (var i = 0; i < 100; i++)
        {
            await ws.SendStr("m" + i);
            Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("m" + i));
        }
        var seconds = (int)Math.Ceiling((DateTimeOffset.UtcNow - started).TotalSeconds) + 1;
        Assert.That(clock.Absolute - before, Is.LessThanOrEqualTo(seconds), "each message re-armed the heartbeat on the scheduler itself");
        Assert.That(ws.Closed, Is.False);
    }

    [Test]
    public async Task A_hundred_messages_under_a_receive_timeout_and_a_heartbeat_set_no_timer_per_message()
    {
        await using var server = await WsServers.StartKestrelAsync();
        var clock = new AbsoluteCountingScheduler();
        await using var session = new ClientSession(new ClientSessionOptions { Scheduler = clock });
        var options = new WsConnectOptions { Heartbeat = TimeSpan.FromSeconds(30), Timeout = new WsTimeout { WsReceive = TimeSpan.FromSeconds(3) } };
        await using var ws = await session.WsConnectAsync(server.Url("ws/echo").Replace("http://", "ws://"), options);
        var before = clock.Absolute + clock.Relative;
        var started = DateTimeOffset.UtcNow;
        for (var i = 0; i < 100; i++)
        {
            await ws.SendStr("m" + i);
            Assert.That((await ws.ReceiveAsync()).Text, Is.EqualTo("m" + i));
        }
        // Each timer goes back on the clock only when it comes due and finds its deadline moved: for the 3 s receive
        // timeout, about once per 3 s; the 30 s heartbeat not at all in this time.
        var seconds = (int)Math.Ceiling((DateTimeOffset.UtcNow - started).TotalSeconds) + 1;
        Assert.That(clock.Absolute + clock.Relative - before, Is.LessThanOrEqualTo(seconds), "each message re-armed a timer");
        Assert.That(ws.Closed, Is.False);
    }
}
