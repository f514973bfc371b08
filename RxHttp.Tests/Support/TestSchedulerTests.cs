using System.Reactive.Linq;
using NUnit.Framework;

namespace RxHttp.Tests.Support;

public class TestSchedulerTests : ReactiveTest
{
    [Test]
    public void Timer_fires_at_the_exact_virtual_tick()
    {
        var s = new TestScheduler();
        var res = s.Start(() => Observable.Timer(TimeSpan.FromTicks(50), s).Select(_ => 1));
        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(250, 1), OnCompleted<int>(250) }));
    }

    [Test]
    public void Dispose_time_cuts_off_later_values()
    {
        var s = new TestScheduler();
        var res = s.Start(() => Observable.Timer(TimeSpan.FromTicks(900), s));
        Assert.That(res.Messages, Is.Empty);
        Assert.That(s.Clock, Is.EqualTo(1000), "the disposed timer must not have run, so the clock stops at the dispose time");
    }
}
