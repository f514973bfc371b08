using System.Collections.Immutable;
using System.Globalization;
using System.Reactive.Concurrency;
using System.Reactive.Linq;

namespace RxHttp.Samples.Tui.ViewModels;

/// <summary>The figures the summary view shows: messages so far, the last price and the range seen.</summary>
public sealed record FeedSummary(int Count, double Last, double Low, double High)
{
    /// <summary>Before any message.</summary>
    public static readonly FeedSummary None = new(0, double.NaN, double.NaN, double.NaN);
}

/// <summary>
/// A websocket's messages as one hot stream shared by two views: <see cref="Recent"/> (the last few messages) and
/// <see cref="Summary"/> (count and price range). <c>Publish().RefCount()</c> means one socket for both views: the
/// first view to subscribe connects, the last to leave closes it. Everything arrives on the UI's scheduler.
/// </summary>
public sealed class LiveFeedViewModel
{
    /// <param name="feed">The text messages, cold: subscribing connects (e.g. <c>session.WsConnect(url).SelectMany(ws =&gt; ws.Messages)</c>).</param>
    /// <param name="scheduler">The UI's scheduler.</param>
    /// <param name="keep">How many recent messages <see cref="Recent"/> holds.</param>
    public LiveFeedViewModel(IObservable<string> feed, IScheduler scheduler, int keep = 6)
    {
        Messages = feed.ObserveOn(scheduler).Publish().RefCount();
        Recent = Messages.Scan(ImmutableList<string>.Empty, (list, m) => (list.Count >= keep ? list.RemoveAt(0) : list).Add(m))
            .Select(list => (IReadOnlyList<string>)list);
        Summary = Messages.Select(Price).Where(p => !double.IsNaN(p))
            .Scan(FeedSummary.None, (s, p) => new FeedSummary(s.Count + 1, p, s.Count == 0 ? p : Math.Min(s.Low, p), s.Count == 0 ? p : Math.Max(s.High, p)));
    }

    /// <summary>The shared hot stream of messages.</summary>
    public IObservable<string> Messages { get; }

    /// <summary>The last few messages, oldest first (view one).</summary>
    public IObservable<IReadOnlyList<string>> Recent { get; }

    /// <summary>Running figures over the prices (view two).</summary>
    public IObservable<FeedSummary> Summary { get; }

    // "tick 12 101.23" → 101.23
    private static double Price(string message) =>
        message.Split(' ') is [.., var last] && double.TryParse(last, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) ? p : double.NaN;
}
