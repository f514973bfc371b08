using System.Reactive.Linq;
using NUnit.Framework;

namespace RxHttp.Tests.Support;

public class TrackingTestSchedulerTests : ReactiveTest
{
    [Test]
    public void A_scheduled_timer_is_pending_until_it_runs()
    {
        var s = new TrackingTestScheduler();
        using var timer = Observable.Timer(TimeSpan.FromTicks(50), s).Subscribe();
        Assert.That(s.IsPending(50), Is.True);
        s.AdvanceTo(50);
        Assert.That(s.IsPending(50), Is.False);
        Assert.That(s.PendingDueTimes(), Is.Empty);
    }

    [Test]
    public void A_cancelled_timer_is_not_pending()
    {
        var s = new TrackingTestScheduler();
        var timer = Observable.Timer(TimeSpan.FromTicks(50), s).Subscribe();
        timer.Dispose();
        Assert.That(s.IsPending(50), Is.False);
    }

    [Test]
    public void It_keeps_the_real_schedulers_marble_semantics()
    {
        var s = new SocketTestScheduler();
        var res = s.Start(() => Observable.Timer(TimeSpan.FromTicks(50), s).Select(_ => 1));
        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(250, 1), OnCompleted<int>(250) }));
    }
}
