using System.Collections.ObjectModel;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using RxHttp.Samples.Tui.ViewModels;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace RxHttp.Samples.Tui.Views;

/// <summary>
/// The app's one window: search (top left), downloads (top right), the live websocket feed in two views (bottom),
/// a status line and the key bar. It only binds: every value comes from a view model's observable, already on the
/// UI thread.
/// </summary>
public sealed class MainWindow : Window
{
    /// <summary>The files F6 downloads, three at a time.</summary>
    public static readonly string[] DownloadNames = ["alpha.bin", "bravo.bin", "charlie.bin"];

    private readonly CompositeDisposable _bindings = new();
    private readonly Label _status;
    private readonly SerialDisposable _downloadBindings = new();
    private readonly List<(Label Name, ProgressBar Bar, Label Detail)> _downloadRows = new();

    /// <summary>Builds the views and binds them to the view models.</summary>
    public MainWindow(SearchViewModel search, DownloadsViewModel downloads, LiveFeedViewModel feed)
    {
        Title = "RxHttp demo (Esc quits)";
        var searchFrame = new FrameView { Title = "Search", X = 0, Y = 0, Width = Dim.Percent(45), Height = Dim.Percent(60) };
        var downloadsFrame = new FrameView { Title = "Downloads", X = Pos.Right(searchFrame), Y = 0, Width = Dim.Fill(), Height = Dim.Percent(60) };
        var feedFrame = new FrameView { Title = "Live ticks (one websocket, two views)", X = 0, Y = Pos.Bottom(searchFrame), Width = Dim.Fill(), Height = Dim.Fill(2) };
        _status = new Label { X = 0, Y = Pos.AnchorEnd(2), Width = Dim.Fill(), Text = "Status: ready" };
        var keys = new StatusBar(
        [
            new Shortcut(Key.F5, "Retry search", search.Retry, "") { BindKeyToApplication = true },
            new Shortcut(Key.F6, "Download 3", () => StartDownloads(downloadsFrame, downloads), "") { BindKeyToApplication = true },
            new Shortcut(Key.F7, "Cancel 1", () => downloads.Cancel(0), "") { BindKeyToApplication = true },
            new Shortcut(Key.F8, "Cancel 2", () => downloads.Cancel(1), "") { BindKeyToApplication = true },
            new Shortcut(Key.F9, "Cancel 3", () => downloads.Cancel(2), "") { BindKeyToApplication = true },
        ]);
        _bindings.Add(_downloadBindings);
        Add(searchFrame, downloadsFrame, feedFrame, _status, keys);
        BindSearch(searchFrame, search);
        BindFeed(feedFrame, feed);
    }

    private void BindSearch(View frame, SearchViewModel search)
    {
        var query = new TextField { X = 7, Y = 0, Width = Dim.Fill(3) };
        var spinner = new SpinnerView { X = Pos.Right(query) + 1, Y = 0, AutoSpin = true, Visible = false };
        var results = new ObservableCollection<string>();
        var list = new ListView { X = 0, Y = 1, Width = Dim.Fill(), Height = Dim.Fill() };
        list.SetSource(results);
        frame.Add(new Label { X = 0, Y = 0, Text = "Query:" }, query, spinner, list);
        query.TextChanged += (_, _) => search.Type(query.Text);
        _bindings.Add(search.States.Subscribe(state =>
        {
            spinner.Visible = state.Busy;
            if (!state.Busy)
            {
                results.Clear();
                foreach (var hit in state.Results) results.Add($"{hit.Name,-14} ★ {hit.Stars}");
                if (state.Error is null && state.Query.Length > 0 && state.Results.Count == 0) results.Add("(no match)");
            }
            _status.Text = state.Error is { } error ? $"Status: search \"{state.Query}\" failed: {error} (F5 retries)"
                : state.Busy ? $"Status: searching \"{state.Query}\"…"
                : state.Query.Length > 0 ? $"Status: {state.Results.Count} result(s) for \"{state.Query}\"" : "Status: ready";
        }));
        query.SetFocus();
    }

    // Another F6 replaces the batch (the view model cancels the old one), so its rows are reused: F7-F9 name rows 1-3.
    private void StartDownloads(View frame, DownloadsViewModel downloads)
    {
        var items = downloads.Start(DownloadNames);
        var bindings = new CompositeDisposable();
        for (var row = 0; row < items.Count; row++) bindings.Add(Bind(Row(frame, row), items[row]));
        _downloadBindings.Disposable = bindings;
    }

    private (Label Name, ProgressBar Bar, Label Detail) Row(View frame, int row)
    {
        while (_downloadRows.Count <= row)
        {
            var y = _downloadRows.Count;
            var cells = (new Label { X = 0, Y = y, Width = 12 }, new ProgressBar { X = 12, Y = y, Width = Dim.Fill(24), Height = 1 },
                new Label { X = Pos.AnchorEnd(23), Y = y, Width = 23 });
            frame.Add(cells.Item1, cells.Item2, cells.Item3);
            _downloadRows.Add(cells);
        }
        return _downloadRows[row];
    }

    private static IDisposable Bind((Label Name, ProgressBar Bar, Label Detail) row, DownloadItem item)
    {
        row.Name.Text = item.Name;
        return item.States.Subscribe(s =>
        {
            row.Bar.Fraction = (float)s.Fraction;
            row.Detail.Text = s.Status switch
            {
                DownloadStatus.Running => $"{s.Bytes / 1024,6} KiB {s.Fraction,5:P0}",
                DownloadStatus.Done => $"{s.Bytes / 1024,6} KiB done",
                DownloadStatus.Cancelled => $"{s.Bytes / 1024,6} KiB cancelled",
                _ => $"failed: {s.Error}",
            };
        });
    }

    private void BindFeed(View frame, LiveFeedViewModel feed)
    {
        var recent = new ObservableCollection<string>();
        var list = new ListView { X = 0, Y = 0, Width = Dim.Percent(50), Height = Dim.Fill() };
        list.SetSource(recent);
        var summary = new Label { X = Pos.Right(list) + 1, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(), Text = "waiting for the first tick…" };
        frame.Add(list, summary);
        void Failed(Exception e) => _status.Text = $"Status: live feed lost: {e.Message}";
        _bindings.Add(feed.Recent.Subscribe(messages =>
        {
            recent.Clear();
            foreach (var m in messages.Reverse()) recent.Add(m);   // newest first, so it is always in view
        }, Failed));
        _bindings.Add(feed.Summary.Subscribe(s =>
            summary.Text = $"{s.Count} ticks\nlast {s.Last:F2}\nlow  {s.Low:F2}\nhigh {s.High:F2}", Failed));
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _bindings.Dispose();
        base.Dispose(disposing);
    }
}
