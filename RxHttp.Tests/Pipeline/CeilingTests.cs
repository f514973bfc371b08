using NUnit.Framework;

namespace RxHttp.Tests.Pipeline;

[TestFixture]
public class CeilingTests
{
    private static long T(double seconds) => (long)Math.Round(seconds * TimeSpan.TicksPerSecond);
    private static TimeSpan S(double seconds) => TimeSpan.FromTicks(T(seconds));
    private static DateTimeOffset At(double seconds) => new(T(seconds), TimeSpan.Zero);
    private static long Ticks(DateTimeOffset d) => d.UtcTicks;

    [TestCase(1000.3, 10.0, 5.0, 1011.0, TestName = "10 s from 1000.3 s is ceiled to 1011 s")]
    [TestCase(1000.3, 4.5, 5.0, 1004.8, TestName = "4.5 s under a 5 s threshold stays exact")]
    [TestCase(1000.3, 5.0, 5.0, 1006.0, TestName = "a delay equal to the threshold is ceiled (>=)")]
    [TestCase(1000.3, 4.9999999, 5.0, 1005.2999999, TestName = "one tick under the threshold stays exact")]
    [TestCase(1000.0, 10.0, 5.0, 1010.0, TestName = "a deadline on a whole second stays there")]
    [TestCase(1000.3, 10.0, 20.0, 1010.3, TestName = "a session threshold of 20 s keeps 10 s exact")]
    [TestCase(1000.3, 1.0, 0.0, 1002.0, TestName = "threshold zero ceils every delay")]
    public void Deadline_is_ceiled_at_or_above_the_threshold_only(double now, double delay, double threshold, double expected)
    {
        var due = Ceiling.Deadline(At(now), S(delay), S(threshold));
        Assert.That(Ticks(due), Is.EqualTo(T(expected)));
    }

    [Test]
    public void Timers_started_within_one_second_fire_together()
    {
        var threshold = TimeSpan.FromSeconds(5);
        var a = Ceiling.Deadline(At(1000.1), TimeSpan.FromSeconds(30), threshold);
        var b = Ceiling.Deadline(At(1000.9), TimeSpan.FromSeconds(30), threshold);
        Assert.That(a, Is.EqualTo(b));
        Assert.That(Ticks(a), Is.EqualTo(T(1031)));
    }

    [TestCase(0.0, TestName = "TimeSpan.MaxValue from the clock's start saturates at DateTimeOffset.MaxValue")]
    [TestCase(1000.3, TestName = "TimeSpan.MaxValue from 1000.3 s saturates at DateTimeOffset.MaxValue")]
    public void A_delay_past_the_calendar_saturates_instead_of_throwing(double now)
    {
        Assert.That(Ceiling.Deadline(At(now), TimeSpan.MaxValue, S(5)), Is.EqualTo(DateTimeOffset.MaxValue));
        Assert.That(Ceiling.Deadline(At(now), TimeSpan.MaxValue, TimeSpan.MaxValue), Is.EqualTo(DateTimeOffset.MaxValue), "exact too");
    }

    [Test]
    public void Ceiling_within_the_last_second_of_the_calendar_saturates()
    {
        var now = DateTimeOffset.MaxValue.AddSeconds(-10).AddTicks(-5);
        // Lands half a second before the end: rounding up to the next whole second would pass it.
        var due = Ceiling.Deadline(now, TimeSpan.FromSeconds(9.5), S(5));
        Assert.That(due, Is.EqualTo(DateTimeOffset.MaxValue));
    }
}
