using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using NUnit.Framework;
using RxHttp.Samples.Tui.ViewModels;

namespace RxHttp.Tests.Samples;

/// <summary>The UI sample's websocket panel: one hot stream, two views, one connection.</summary>
public class LiveFeedViewModelTests
{
    [Test]
    public void Two_views_share_one_subscription_to_the_feed_and_the_last_view_to_leave_closes_it()
    {
        var time = new HistoricalScheduler();
        var socket = new Subject<string>();
        int connects = 0, closes = 0;
        var feed = Observable.Create<string>(o => { connects++; var s = socket.Subscribe(o); return () => { closes++; s.Dispose(); }; });
        var vm = new LiveFeedViewModel(feed, time, keep: 2);

        IReadOnlyList<string> recent = [];
        FeedSummary summary = FeedSummary.None;
        var one = vm.Recent.Subscribe(r => recent = r);
        var two = vm.Summary.Subscribe(s => summary = s);
        Assert.That(connects, Is.EqualTo(1), "one socket for both views");

        socket.OnNext("tick 1 100.00");
        socket.OnNext("tick 2 103.50");
        socket.OnNext("tick 3 99.25");
        Assert.That(recent, Is.Empty, "messages wait for the UI scheduler");
        time.AdvanceBy(TimeSpan.FromTicks(1));
        Assert.That(recent, Is.EqualTo(new[] { "tick 2 103.50", "tick 3 99.25" }));
        Assert.That(summary, Is.EqualTo(new FeedSummary(3, 99.25, 99.25, 103.5)));

        one.Dispose();
        Assert.That(closes, Is.EqualTo(0), "the other view still listens");
        two.Dispose();
        Assert.That(closes, Is.EqualTo(1));
    }
}
