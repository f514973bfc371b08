using System.Reactive.Disposables;

namespace RxHttp;

/// <summary>
/// A request whose start is queued to the thread pool, so its subscriber's thread is not held while the request is
/// built, a connection leased and the request written. Rx operators subscribe their inner sources under their own
/// gate (<c>Merge(n)</c> subscribes the next queued request from the previous one's OnCompleted, inside its lock);
/// inline, every other request's completion waited on that lock for the send syscall, which serialised 64
/// concurrent requests. Disposed before it starts, the request is never sent.
/// </summary>
internal sealed class DeferredStart : IDisposable
{
    private static readonly IDisposable Disposed = Disposable.Empty;

    private readonly ResponseObservable _source;
    private readonly IObserver<ClientResponse> _observer;
    private IDisposable? _call; // null until started; Disposed once disposed

    private DeferredStart(ResponseObservable source, IObserver<ClientResponse> observer)
    {
        _source = source;
        _observer = observer;
    }

    /// <summary>Queues <paramref name="source"/>'s start for <paramref name="observer"/>; the result cancels it.</summary>
    public static IDisposable Queue(ResponseObservable source, IObserver<ClientResponse> observer)
    {
        var start = new DeferredStart(source, observer);
        // Local: a pool thread subscribing (Merge's, from a completion) runs it next once it leaves the operator's
        // lock, unless an idle thread steals it first. Not Unsafe: the execution context flows, as it would inline.
        ThreadPool.QueueUserWorkItem(static s => s.Execute(), start, preferLocal: true);
        return start;
    }

    private void Execute()
    {
        if (Volatile.Read(ref _call) is not null) return; // disposed before it started: nothing is sent
        var call = _source.StartInline(_observer);
        if (Interlocked.CompareExchange(ref _call, call, null) is not null) call.Dispose();
    }

    public void Dispose() => Interlocked.Exchange(ref _call, Disposed)?.Dispose();
}
