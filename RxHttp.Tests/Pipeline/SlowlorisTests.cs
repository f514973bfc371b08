using System.Reactive;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;
using static RxHttp.Tests.Pipeline.Ticks;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// A slowloris server, one that keeps a response alive with a byte now and then, is cut off by the read timeout when
/// it stalls and by the Total timeout when it never stalls long enough: both in virtual time, to the tick.
/// </summary>
[TestFixture]
public class SlowlorisTests : ReactiveTest
{
    private static ClientSession Session(SocketTestScheduler scheduler) => new(new ClientSessionOptions
    {
        Scheduler = scheduler,
        // A threshold above both timeouts keeps their deadlines exact.
        Timeout = new ClientTimeout { Total = Span(5), SockRead = Span(1), CeilThreshold = Span(10) },
    });

    private static async Task<ITestableObserver<T>> Start<T>(SocketTestScheduler scheduler, SteppedServer server, IObservable<T> request)
    {
        scheduler.AdvanceTo(S(1000.3));
        var observer = scheduler.CreateObserver<T>();
        request.Subscribe(observer);
        await server.RequestSeen.WaitAsync(TimeSpan.FromSeconds(10));
        return observer;
    }

    // Sends one byte every 0.9 s: each re-arms the 1 s read timeout, so only Total can end the response.
    private static async Task<double> Dribble(SocketTestScheduler scheduler, SteppedServer server, string bytes, double now)
    {
        foreach (var b in bytes)
        {
            if (now + 0.9 >= 1005.3) break;
            await Wait.Until(() => scheduler.IsPending(S(now + 1)), what: "the read timer re-armed by the last byte");
            now += 0.9;
            scheduler.AdvanceTo(S(now));
            await server.SendAsync(b.ToString());
        }
        return now;
    }

    [Test]
    public async Task A_head_dribbled_a_byte_at_a_time_is_cut_off_by_Total_to_the_tick()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        using var session = Session(scheduler);
        var observer = await Start(scheduler, server, session.Get(server.Url()));
        await Dribble(scheduler, server, "HTTP/1.1 200 OK\r\nX-Slow: aaaaaaaaaa", 1000.3);
        Assert.That(observer.Messages, Is.Empty, "the read timeout never fired: every byte came within 1 s");

        var fired = await FiresExactlyAt(scheduler, observer, S(1005.3), "the total timeout");
        Assert.That(fired.Exception, Is.InstanceOf<TotalTimeoutError>());
        await server.Server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Opening: 0, Idle: 0 }, what: "the pool slot to be freed");
    }

    [Test]
    public async Task A_head_that_stalls_half_way_is_cut_off_by_the_read_timeout_to_the_tick()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        using var session = Session(scheduler);
        var observer = await Start(scheduler, server, session.Get(server.Url()));
        var now = await Dribble(scheduler, server, "HTT", 1000.3);
        Assert.That(now, Is.EqualTo(1003.0).Within(1e-9));

        var fired = await FiresExactlyAt(scheduler, observer, S(now + 1), "the read timeout one second after the last byte");
        Assert.That(fired.Exception, Is.InstanceOf<SocketTimeoutError>());
        await server.Server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task A_body_dribbled_a_byte_at_a_time_is_cut_off_by_Total_to_the_tick()
    {
        var scheduler = new SocketTestScheduler();
        await using var server = new SteppedServer();
        using var session = Session(scheduler);
        var observer = await Start(scheduler, server, session.Get(server.Url()).SelectMany(r => r.Read()));
        await server.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        await Dribble(scheduler, server, new string('b', 100), 1000.3);
        Assert.That(observer.Messages, Is.Empty);

        var fired = await FiresExactlyAt(scheduler, observer, S(1005.3), "the total timeout during the body");
        Assert.That(fired.Exception, Is.InstanceOf<TotalTimeoutError>());
        await server.Server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
