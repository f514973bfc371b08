using System.Collections.ObjectModel;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace RxHttp.Samples.Tui.ViewModels;

/// <summary>Where a download is.</summary>
public enum DownloadStatus
{
    /// <summary>Bytes are arriving.</summary>
    Running,
    /// <summary>The body was read to its end.</summary>
    Done,
    /// <summary>The user cancelled it; its request was disposed.</summary>
    Cancelled,
    /// <summary>The request or the body failed.</summary>
    Failed,
}

/// <summary>What one row of the download panel shows.</summary>
public sealed record DownloadState(string Name, long Bytes, long? Total, DownloadStatus Status, string? Error)
{
    /// <summary>Bytes / Total, or 0 while the total is unknown.</summary>
    public double Fraction => Total is > 0 ? Math.Min(1, (double)Bytes / Total.Value) : Status == DownloadStatus.Done ? 1 : 0;
}

/// <summary>
/// One download: its transfer progress (the library's <see cref="ClientResponse.DownloadProgress"/>), sampled so a
/// fast transfer does not flood the UI, delivered on the UI's scheduler. <see cref="Cancel"/> disposes the
/// subscription, which cancels the request or closes its connection mid-body.
/// </summary>
public sealed class DownloadItem
{
    private readonly BehaviorSubject<DownloadState> _state;
    private readonly IDisposable _subscription;

    internal DownloadItem(string name, IObservable<TransferProgress> progress, IScheduler scheduler, TimeSpan refresh)
    {
        _state = new BehaviorSubject<DownloadState>(new DownloadState(name, 0, null, DownloadStatus.Running, null));
        _subscription = progress
            .Publish(p => p.Sample(refresh, scheduler).Merge(p.TakeLast(1)))   // at most one redraw per refresh, and always the last figure
            .ObserveOn(scheduler)
            .Subscribe(
                p => Update(s => s with { Bytes = p.Bytes, Total = p.Total }),
                e => Update(s => s with { Status = DownloadStatus.Failed, Error = e.Message }),
                () => Update(s => s with { Status = DownloadStatus.Done }));
    }

    /// <summary>The file's name.</summary>
    public string Name => _state.Value.Name;

    /// <summary>Every state, the current one first.</summary>
    public IObservable<DownloadState> States => _state.AsObservable();

    /// <summary>The state now.</summary>
    public DownloadState Current => _state.Value;

    /// <summary>Stops this download (others go on); nothing more arrives for it.</summary>
    public void Cancel()
    {
        _subscription.Dispose();
        Update(s => s.Status == DownloadStatus.Running ? s with { Status = DownloadStatus.Cancelled } : s);
    }

    private void Update(Func<DownloadState, DownloadState> change) => _state.OnNext(change(_state.Value));
}

/// <summary>Concurrent downloads, each with live progress and its own cancel.</summary>
public sealed class DownloadsViewModel : IDisposable
{
    /// <summary>How often a running download's progress is redrawn at most.</summary>
    public static readonly TimeSpan DefaultRefresh = TimeSpan.FromMilliseconds(100);

    private readonly Func<string, IObservable<TransferProgress>> _download;
    private readonly IScheduler _scheduler;
    private readonly TimeSpan _refresh;

    /// <param name="download">Starts one download when subscribed and reports its progress; disposing cancels it.</param>
    /// <param name="scheduler">The UI's scheduler: sampling runs on it and every state arrives on it.</param>
    /// <param name="refresh">The redraw interval; <see cref="DefaultRefresh"/> when null.</param>
    public DownloadsViewModel(Func<string, IObservable<TransferProgress>> download, IScheduler scheduler, TimeSpan? refresh = null)
    {
        _download = download;
        _scheduler = scheduler;
        _refresh = refresh ?? DefaultRefresh;
    }

    /// <summary>The current batch's downloads, in order (changed on the UI thread only); a new batch replaces them.</summary>
    public ObservableCollection<DownloadItem> Items { get; } = new();

    /// <summary>
    /// Starts <paramref name="names"/> as the new batch, in place of the current one, whose downloads still running
    /// are cancelled first.
    /// </summary>
    /// <returns>The new batch, as <see cref="Items"/> now holds it.</returns>
    public IReadOnlyList<DownloadItem> Start(params string[] names)
    {
        // Cancel(index) reaches only the current batch, so a download left running from an earlier one could never be
        // stopped (F7-F9); it would also write to the file its successor of the same name writes.
        foreach (var item in Items) item.Cancel();
        Items.Clear();
        foreach (var name in names) Items.Add(new DownloadItem(name, Observable.Defer(() => _download(name)), _scheduler, _refresh));
        return [.. Items];
    }

    /// <summary>Cancels the current batch's download at <paramref name="index"/> (0-based) if there is one.</summary>
    public void Cancel(int index)
    {
        if (index >= 0 && index < Items.Count) Items[index].Cancel();
    }

    /// <summary>Cancels every download.</summary>
    public void Dispose()
    {
        foreach (var item in Items) item.Cancel();
    }
}
