using System.Reactive.Disposables;

namespace RxHttp;

/// <summary>
/// A request whose start is deferred, so its subscriber's thread is not held while the request is built, a
/// connection leased and the request written. Rx operators subscribe their inner sources under their own gate
/// (<c>Merge(n)</c> subscribes the next queued request from the previous one's OnCompleted, inside its lock); inline,
/// every other request's completion waited on that lock for the send syscall, which serialised 64 concurrent
/// requests. Disposed before it starts, the request is never sent.
/// <para>
/// Where the subscription happens inside one of RxHttp's own completions (<see cref="CompletionScope"/>: Merge reacting to a
/// response or body that RxHttp delivers), the start runs on the same thread as soon as that completion returns,
/// and so after the operator left its lock. Handed to the thread pool instead, it was mostly picked up by another
/// thread, woken for it: per request a wake-up, and the thread-local caches (cancellation sources, pooled async
/// boxes) missed, about 700 B more allocated per request than 64 awaiting workers. The thread pool still gets
/// every start too, as the guarantee: if the completion's caller blocks (a synchronous wait inside an observer),
/// a pool thread starts the request; whichever comes first starts it, the other finds it taken.
/// </para>
/// </summary>
internal sealed class DeferredStart : IDisposable, IThreadPoolWorkItem
{
    private static readonly IDisposable Disposed = Disposable.Empty;

    private readonly ResponseObservable _source;
    private readonly IObserver<ClientResponse> _observer;
    private readonly ExecutionContext? _context;
    private IDisposable? _call; // null until started; Disposed once disposed
    private int _taken; // 1 once the thread pool or the completion's thread claimed the start

    private DeferredStart(ResponseObservable source, IObserver<ClientResponse> observer)
    {
        _source = source;
        _observer = observer;
        // As if inline: the request runs in its subscriber's execution context, wherever it starts.
        _context = ExecutionContext.Capture();
    }

    /// <summary>Queues <paramref name="source"/>'s start for <paramref name="observer"/>; the result cancels it.</summary>
    public static IDisposable Queue(ResponseObservable source, IObserver<ClientResponse> observer)
    {
        var start = new DeferredStart(source, observer);
        if (CompletionScope.Active) CompletionScope.Defer(start);
        // Local: a pool thread subscribing (Merge's, from a completion) runs it next once it leaves the operator's
        // lock, unless an idle thread steals it first.
        ThreadPool.UnsafeQueueUserWorkItem(start, preferLocal: true);
        return start;
    }

    // Called by the thread pool and by the completion's scope: the first takes the start, the other finds it taken.
    void IThreadPoolWorkItem.Execute()
    {
        if (Interlocked.Exchange(ref _taken, 1) != 0) return;
        if (_context is null) Start();
        else ExecutionContext.Run(_context, static s => ((DeferredStart)s!).Start(), this);
    }

    private void Start()
    {
        if (Volatile.Read(ref _call) is not null) return; // disposed before it started: nothing is sent
        var call = _source.StartInline(_observer);
        if (Interlocked.CompareExchange(ref _call, call, null) is not null) call.Dispose();
    }

    public void Dispose() => Interlocked.Exchange(ref _call, Disposed)?.Dispose();
}
