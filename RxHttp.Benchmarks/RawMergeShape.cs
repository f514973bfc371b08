using System.Reactive.Disposables;
using System.Reactive.Linq;

namespace RxHttp.Benchmarks;

/// <summary>
/// Row 2r's shape with no client at all: <c>Range(0, n).Select(_ => request).Merge(64)</c> over the raw-socket floor
/// of row 2″ (a fixed request, the least parsing that finds the response's end, 64 kept connections), each request
/// wrapped in the least observable that can carry it. Against HttpClient's 64 <c>Task</c> workers it shows what the
/// <c>Merge(64)</c> shape leaves of the most any client on .NET sockets could reach here, the bound on 2r's first bar.
/// </summary>
internal sealed class RawMergeShape : IAsyncDisposable
{
    private const int Concurrency = 64;
    private readonly RawSide _raw;

    public RawMergeShape(string httpBase) => _raw = new RawSide(httpBase, httpBase, Concurrency);

    /// <summary>
    /// <paramref name="n"/> requests through <c>Merge(64)</c>. <paramref name="queued"/>: each request starts on the
    /// thread pool, so Merge's gate is not held through the send (as RxHttp's requests start when others are out);
    /// else inline in Subscribe, under the gate.
    /// </summary>
    public async Task<int> MergeAsync(int n, bool queued) =>
        await Observable.Range(0, n).Select(_ => (IObservable<int>)new RawRequest(this, queued)).Merge(Concurrency).Count();

    /// <summary>Row 2″'s own shape: 64 <c>async</c> workers, for the same rounds.</summary>
    public Task<double> WorkersAsync(TimeSpan slice) => _raw.ConcurrentAsync(slice, Concurrency);

    private sealed class RawRequest(RawMergeShape shape, bool queued) : IObservable<int>
    {
        public IDisposable Subscribe(IObserver<int> observer)
        {
            if (queued) ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.Shape.RunAsync(s.Observer), (Shape: shape, Observer: observer), preferLocal: true);
            else _ = shape.RunAsync(observer);
            return Disposable.Empty;
        }
    }

    private async Task RunAsync(IObserver<int> observer)
    {
        try
        {
            await _raw.OneAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            observer.OnError(e);
            return;
        }
        observer.OnNext(13);
        observer.OnCompleted();
    }

    public ValueTask DisposeAsync() => _raw.DisposeAsync();
}
