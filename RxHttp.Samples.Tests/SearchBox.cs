using System.Reactive.Concurrency;
using System.Reactive.Linq;

namespace RxHttp.Samples.Tests;

/// <summary>
/// A user's search box: each query is debounced, sent once it settles, and a newer query cancels the request of the
/// one it replaces (<c>Switch</c>). Written against RxHttp's public API only, as an application would.
/// </summary>
public sealed class SearchViewModel(ClientSession session, IScheduler scheduler)
{
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(300);

    /// <summary>The result lines for each settled query.</summary>
    public IObservable<string> Results(IObservable<string> queries) =>
        queries
            .Throttle(Debounce, scheduler)
            .DistinctUntilChanged()
            .Select(q => session.Get("https://search.example.test/search", new RequestOptions
            {
                Params = new QueryParams { { "q", q } },
                Timeout = TimeSpan.FromSeconds(5),
            }).SelectMany(r => r.Text()).Catch((ServerTimeoutError _) => Observable.Return("(timed out)")))
            .Switch();
}

/// <summary>A user's downloader: retries transient failures with exponential backoff on the given scheduler.</summary>
public sealed class RetryingDownloader(ClientSession session, IScheduler scheduler, int attempts = 6)
{
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    public IObservable<byte[]> Download(string url) =>
        Observable.Defer(() => session.Get(url, new RequestOptions { RaiseForStatus = true }).SelectMany(r => r.Read()))
            .RetryWhen(errors => errors.Select((error, n) => (error, n)).SelectMany(e =>
                e.n + 1 < attempts && e.error is ClientResponseError { Status: >= 500 } or ClientConnectionError
                    ? Observable.Timer(FirstBackoff * (1 << e.n), scheduler)
                    : Observable.Throw<long>(e.error)));
}
