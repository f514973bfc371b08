using Microsoft.Reactive.Testing;
using NUnit.Framework;

namespace RxHttp.Tests.Transport;

/// <summary>
/// The SockRead timer and the read it guards race for that read: the timer's abort may be running on the scheduler's
/// thread while the read ends, and a reader that goes on would hand the connection on before the abort lands on it.
/// Whoever takes the read first acts; the reader learns from Disarm that the timer did.
/// </summary>
[TestFixture]
public class ReadTimerTests
{
    private static readonly TimeSpan Five = TimeSpan.FromSeconds(5);

    [Test]
    public void A_read_that_ends_in_time_wins_and_the_timer_never_fires()
    {
        var scheduler = new TestScheduler();
        var timer = new ReadTimer(scheduler, Five, TimeSpan.FromSeconds(1));
        var fired = new List<long>();
        timer.Arm(fired, f => f.Add(scheduler.Clock));
        scheduler.AdvanceBy(Five.Ticks - 1);
        Assert.That(timer.Disarm(), Is.True);
        scheduler.AdvanceBy(Five.Ticks * 2);
        Assert.That(fired, Is.Empty);
        Assert.That(timer.Disarm(), Is.True, "disarming twice changes nothing");
    }

    [Test]
    public void A_timer_that_fired_first_tells_the_reader_until_the_next_read_is_armed()
    {
        var scheduler = new TestScheduler();
        var timer = new ReadTimer(scheduler, Five, TimeSpan.FromSeconds(1));
        var fired = new List<long>();
        timer.Arm(fired, f => f.Add(scheduler.Clock));
        scheduler.AdvanceBy(Five.Ticks);
        Assert.That(fired, Is.EqualTo(new[] { Five.Ticks }));
        Assert.That(timer.Disarm(), Is.False, "the reader must not hand the connection on");
        Assert.That(timer.Disarm(), Is.False);

        timer.Arm(fired, f => f.Add(scheduler.Clock));
        Assert.That(timer.Disarm(), Is.True, "a new read starts a new race");
        scheduler.AdvanceBy(Five.Ticks * 2);
        Assert.That(fired, Has.Count.EqualTo(1));
    }

    [Test]
    public void Each_read_is_timed_from_its_own_arming()
    {
        var scheduler = new TestScheduler();
        var timer = new ReadTimer(scheduler, Five, TimeSpan.FromSeconds(1));
        var fired = new List<long>();
        timer.Arm(fired, f => f.Add(scheduler.Clock));
        scheduler.AdvanceTo(TimeSpan.FromSeconds(3).Ticks);
        Assert.That(timer.Disarm(), Is.True);
        timer.Arm(fired, f => f.Add(scheduler.Clock));
        scheduler.AdvanceTo(TimeSpan.FromSeconds(20).Ticks);
        Assert.That(fired, Is.EqualTo(new[] { TimeSpan.FromSeconds(8).Ticks }), "5 s after the second arming, the first one's timer gone");
    }
}
