using NUnit.Framework;
using RxHttp.Transport;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Transport;

public class TimerWheelTests
{
    private static DateTimeOffset At(long ticks) => new(ticks, TimeSpan.Zero);

    [Test]
    public void Timers_due_at_the_same_tick_share_one_scheduled_action_and_fire_in_order()
    {
        var s = new TrackingTestScheduler();
        var wheel = TimerWheel.For(s);
        var fired = new List<(string, long)>();
        wheel.Schedule(At(5_000), "a", x => fired.Add((x, s.Clock)));
        wheel.Schedule(At(5_000), "b", x => fired.Add((x, s.Clock)));
        wheel.Schedule(At(7_000), "c", x => fired.Add((x, s.Clock)));
        Assert.That(s.PendingDueTimes(), Is.EquivalentTo(new[] { 5_000L, 7_000L }), "one action per distinct tick");
        s.AdvanceTo(4_999);
        Assert.That(fired, Is.Empty);
        s.AdvanceTo(5_000);
        Assert.That(fired, Is.EqualTo(new[] { ("a", 5_000L), ("b", 5_000L) }));
        s.AdvanceTo(7_000);
        Assert.That(fired[^1], Is.EqualTo(("c", 7_000L)));
    }

    [Test]
    public void A_cancelled_timer_does_not_fire_and_an_emptied_bucket_cancels_its_action()
    {
        var s = new TrackingTestScheduler();
        var wheel = TimerWheel.For(s);
        var fired = new List<string>();
        var a = wheel.Schedule(At(1_000), "a", fired.Add);
        var b = wheel.Schedule(At(1_000), "b", fired.Add);
        a.Dispose();
        s.AdvanceTo(1_000);
        Assert.That(fired, Is.EqualTo(new[] { "b" }));

        var c = wheel.Schedule(At(2_000), "c", fired.Add);
        c.Dispose();
        Assert.That(s.IsPending(2_000), Is.False, "nothing left to wake up for");
        c.Dispose();
        b.Dispose(); // after firing: harmless
        s.AdvanceTo(3_000);
        Assert.That(fired, Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public void A_timer_added_after_its_bucket_emptied_gets_a_new_action()
    {
        var s = new TrackingTestScheduler();
        var wheel = TimerWheel.For(s);
        var fired = 0;
        wheel.Schedule(At(1_000), 0, _ => fired++).Dispose();
        wheel.Schedule(At(1_000), 0, _ => fired++);
        s.AdvanceTo(1_000);
        Assert.That(fired, Is.EqualTo(1));
    }

    [Test]
    public void Each_scheduler_has_its_own_wheel()
    {
        var s1 = new TrackingTestScheduler();
        var s2 = new TrackingTestScheduler();
        Assert.That(TimerWheel.For(s1), Is.SameAs(TimerWheel.For(s1)));
        Assert.That(TimerWheel.For(s1), Is.Not.SameAs(TimerWheel.For(s2)));
    }
}
