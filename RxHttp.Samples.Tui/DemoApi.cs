using System.Reactive.Disposables;
using System.Reactive.Linq;
using RxHttp.Samples.Tui.ViewModels;

namespace RxHttp.Samples.Tui;

/// <summary>The three streams the app binds to, made from one <see cref="ClientSession"/> on the demo server.</summary>
public sealed class DemoApi(ClientSession session, string downloadDirectory)
{
    private sealed record SearchResponse(string Query, SearchHit[] Results);

    /// <summary>GET search?q=…, failing with <see cref="ClientResponseError"/> on a 4xx/5xx.</summary>
    public IObservable<IReadOnlyList<SearchHit>> Search(string query) =>
        session.Get("search", new() { Params = new Dictionary<string, string> { ["q"] = query }, RaiseForStatus = true })
            .SelectMany(r => r.Json<SearchResponse>())
            .Select(r => (IReadOnlyList<SearchHit>?)r?.Results ?? []);

    /// <summary>
    /// Downloads download/NAME into the download directory, reporting the response's transfer progress; the body is
    /// streamed to the file as it arrives. Disposing before the end closes the connection and deletes the partial file.
    /// </summary>
    public IObservable<TransferProgress> Download(string name, long size = 4 << 20, long rate = 512 * 1024) =>
        session.Get($"download/{name}", new() { Params = new Dictionary<string, string> { ["size"] = $"{size}", ["rate"] = $"{rate}" }, RaiseForStatus = true })
            .SelectMany(response => Observable.Using(
                () => new PartialFile(Path.Combine(downloadDirectory, name)),
                file => response.DownloadProgress.Merge(
                    response.BorrowedContent.Do(chunk => file.Stream.Write(chunk.Span), file.Complete).IgnoreElements().Select(_ => default(TransferProgress)))));

    /// <summary>
    /// The ticks websocket's text messages, across reconnections: a dropped connection or a server restart is followed
    /// by a new connection (backing off up to <paramref name="maxDelay"/>), and the stream goes on. Subscribing
    /// connects, disposing closes.
    /// </summary>
    public IObservable<string> Ticks(string url, TimeSpan? maxDelay = null) => Observable.Create<string>(observer =>
    {
        // A live panel should outlive its server's restarts; a plain WsConnect ends at the first drop.
        var ws = session.WsReconnecting(url, reconnect: new ReconnectOptions
        {
            InitialDelay = TimeSpan.FromMilliseconds(250), MaxDelay = maxDelay ?? TimeSpan.FromSeconds(5),
        });
        var messages = ws.Messages.Where(m => m.Type == WsMsgType.Text).Select(m => m.Text!).Subscribe(observer);
        ws.Start();
        return new CompositeDisposable(messages, ws);
    });

    // A file that is deleted when disposed before Complete: a cancelled download leaves nothing half-written.
    private sealed class PartialFile(string path) : IDisposable
    {
        private bool _complete;

        public FileStream Stream { get; } = File.Create(path);

        public void Complete() => _complete = true;

        public void Dispose()
        {
            Stream.Dispose();
            if (!_complete) File.Delete(path);
        }
    }
}
