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
    public void A_deadline_past_the_longest_wait_is_reached_in_steps_no_real_timer_would_refuse()
    {
        // System.Threading.Timer refuses more than 49.7 days, and EventLoopScheduler hands it an absolute due time
        // on its own thread: a 60-day or TimeSpan.MaxValue timeout must never reach it whole.
        var s = new TrackingTestScheduler();
        var wheel = TimerWheel.For(s);
        var step = TimerWheel.LongestWait.Ticks;
        var fired = new List<long>();
        wheel.Schedule(At(3 * step + 5), 0, _ => fired.Add(s.Clock));
        var never = wheel.Schedule(DateTimeOffset.MaxValue, 0, _ => fired.Add(-1));
        Assert.That(s.PendingDueTimes(), Is.EquivalentTo(new[] { step, step }), "each waits one step at most");

        s.AdvanceTo(3 * step + 4);
        Assert.That(fired, Is.Empty);
        Assert.That(s.PendingDueTimes(), Is.EquivalentTo(new[] { 3 * step + 5, 4 * step }));
        s.AdvanceTo(3 * step + 5);
        Assert.That(fired, Is.EqualTo(new[] { 3 * step + 5 }), "on its tick, not a step later");

        never.Dispose();
        Assert.That(s.PendingDueTimes(), Is.Empty, "cancelling a stepped timer cancels its current step");
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

public class TimerWheelVirtualTimeTests : ReactiveTest
{
    [Test]
    public void Start_after_one_request_does_not_run_the_clock_to_a_cancelled_whole_second_deadline()
    {
        var scheduler = new TestScheduler();
        using var http = new RxHttp.Testing.FakeHttp();
        http.When("https://api.example.test/*").Respond(200, "ok");
        using var session = http.CreateSession(scheduler); // Total 300 s and SockConnect 30 s: ceiled, whole-second deadlines
        var res = scheduler.Start(() => System.Reactive.Linq.Observable.SelectMany(session.Get("https://api.example.test/x"), r => r.Text()));
        Assert.That(res.Messages[0].Value.Value, Is.EqualTo("ok"));
        // The keep-alive expiry (15 s) is the only timer left; the cancelled 300 s total must not move the clock.
        Assert.That(scheduler.Clock, Is.EqualTo(TimeSpan.FromSeconds(16).Ticks), "the keep-alive expiry, 15 s ceiled");
    }

    [Test]
    public void On_a_real_scheduler_an_emptied_whole_second_bucket_stays_for_reuse()
    {
        var real = new System.Reactive.Concurrency.EventLoopScheduler();
        try
        {
            var wheel = TimerWheel.For(real);
            var due = new DateTimeOffset(real.Now.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(300);
            wheel.Schedule(due, 0, _ => { }).Dispose();
            Assert.That(wheel.HasBucket(due), Is.True);
            var virtualWheel = TimerWheel.For(new TestScheduler());
            virtualWheel.Schedule(due, 0, _ => { }).Dispose();
            Assert.That(virtualWheel.HasBucket(due), Is.False);
        }
        finally
        {
            real.Dispose();
        }
    }
}
