using System.Reactive.Concurrency;
using System.Reactive.Subjects;
using NUnit.Framework;
using RxHttp.Samples.Tui.ViewModels;

namespace RxHttp.Tests.Samples;

/// <summary>The UI sample's downloads in virtual time: live progress per download, sampled, cancelled one by one.</summary>
public class DownloadsViewModelTests
{
    private HistoricalScheduler _time = null!;
    private Dictionary<string, Subject<TransferProgress>> _transfers = null!;
    private DownloadsViewModel _vm = null!;

    [SetUp]
    public void Create()
    {
        (_time, _transfers) = (new(), new());
        _vm = new DownloadsViewModel(Transfer, _time, TimeSpan.FromMilliseconds(100));
    }

    private IObservable<TransferProgress> Transfer(string name) => _transfers[name] = new Subject<TransferProgress>();

    private void Advance(int milliseconds) => _time.AdvanceBy(TimeSpan.FromMilliseconds(milliseconds));

    [Test]
    public void Concurrent_downloads_show_their_own_progress_and_a_cancelled_one_stops_while_the_others_go_on()
    {
        var started = _vm.Start("a", "b");
        var (a, b) = (started[0], started[1]);
        _transfers["a"].OnNext(new(10, 100));
        _transfers["b"].OnNext(new(20, 200));
        Advance(100);
        Assert.That((a.Current.Bytes, a.Current.Fraction, b.Current.Bytes, b.Current.Fraction), Is.EqualTo((10L, 0.1, 20L, 0.1)));

        _vm.Cancel(0);
        Assert.That(_transfers["a"].HasObservers, Is.False, "cancelling disposes the download's subscription (and so its request)");
        Assert.That(a.Current.Status, Is.EqualTo(DownloadStatus.Cancelled));

        _transfers["b"].OnNext(new(150, 200));
        Advance(100);
        Assert.That(b.Current, Is.EqualTo(new DownloadState("b", 150, 200, DownloadStatus.Running, null)));
        Assert.That(a.Current, Is.EqualTo(new DownloadState("a", 10, 100, DownloadStatus.Cancelled, null)), "nothing moves after cancel");

        _transfers["b"].OnNext(new(200, 200));
        _transfers["b"].OnCompleted();
        Advance(100);
        Assert.That(b.Current, Is.EqualTo(new DownloadState("b", 200, 200, DownloadStatus.Done, null)));
        b.Cancel();
        Assert.That(b.Current.Status, Is.EqualTo(DownloadStatus.Done), "cancelling a finished download changes nothing");
    }

    [Test]
    public void A_second_batch_cancels_the_first_so_every_download_running_stays_within_reach_of_cancel()
    {
        var first = _vm.Start("a", "b", "c");
        var firstTransfers = _transfers.Values.ToList();
        _transfers["a"].OnNext(new(10, 100));
        Advance(100);

        var second = _vm.Start("a", "b", "c");
        Assert.That(firstTransfers.Select(t => t.HasObservers), Is.All.False, "the first batch's requests were disposed");
        Assert.That(first.Select(i => i.Current.Status), Is.All.EqualTo(DownloadStatus.Cancelled));
        Assert.That(_vm.Items, Is.EqualTo(second), "Cancel(index) addresses the batch now running");

        for (var i = 0; i < 3; i++) _vm.Cancel(i);
        Assert.That(_transfers.Values.Select(t => t.HasObservers), Is.All.False, "F7-F9 stopped the second batch");
        Assert.That(second.Select(i => i.Current.Status), Is.All.EqualTo(DownloadStatus.Cancelled));
    }

    [Test]
    public void Disposing_cancels_what_a_restarted_batch_left_running()
    {
        _vm.Start("a", "b");
        _vm.Start("a", "b");
        _vm.Dispose();
        Assert.That(_transfers.Values.Select(t => t.HasObservers), Is.All.False);
    }

    [Test]
    public void Progress_is_sampled_so_a_fast_transfer_redraws_at_most_once_per_interval_and_the_last_figure_always_shows()
    {
        var a = _vm.Start("a")[0];
        var states = new List<DownloadState>();
        a.States.Subscribe(states.Add);
        for (var i = 1; i <= 1000; i++) _transfers["a"].OnNext(new(i, 1000));
        Advance(100);
        for (var i = 1001; i <= 1500; i++) _transfers["a"].OnNext(new(i, null));
        _transfers["a"].OnCompleted();
        Advance(100);
        Assert.That(states.Count, Is.LessThanOrEqualTo(5), "a thousand reads became a handful of redraws");
        Assert.That(states[^1], Is.EqualTo(new DownloadState("a", 1500, null, DownloadStatus.Done, null)));
    }

    [Test]
    public void A_failed_transfer_shows_its_error()
    {
        var a = _vm.Start("a")[0];
        _transfers["a"].OnNext(new(5, 10));
        _transfers["a"].OnError(new ClientPayloadError("Response payload is not completed"));
        Advance(100);
        Assert.That(a.Current.Status, Is.EqualTo(DownloadStatus.Failed));
        Assert.That(a.Current.Error, Does.Contain("not completed"));
    }

    [Test]
    public void Nothing_is_delivered_off_the_ui_scheduler()
    {
        var a = _vm.Start("a")[0];
        _transfers["a"].OnNext(new(10, 100));
        Assert.That(a.Current.Bytes, Is.EqualTo(0), "a value pushed on the transfer's thread waits for the UI scheduler");
        Advance(100);
        Assert.That(a.Current.Bytes, Is.EqualTo(10));
    }
}
