using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Runtime.ExceptionServices;

namespace RxHttp;

/// <summary>Bridges between tasks, observables and async sequences that never lose a resource on a race.</summary>
internal static class RxAsync
{
    /// <summary>
    /// A cold observable of <paramref name="run"/>'s result. Disposing cancels; a result that arrives after
    /// disposal goes to <paramref name="orphan"/> (so a lease or response is never dropped), and an error after
    /// disposal is observed here rather than left unobserved.
    /// </summary>
    public static IObservable<T> FromAsync<T>(Func<CancellationToken, Task<T>> run, Action<T>? orphan = null) =>
        Observable.Create<T>(observer => new FromAsyncSink<T>(observer, orphan, CtsCache.Rent()).Run(run));

    /// <summary>
    /// <c>Observable.Create</c> over an async producer, except that a failure after the subscriber disposed is observed
    /// here: Rx stops watching the producer's task on disposal, so a read that fails just as the subscriber leaves (the
    /// server closes as the caller disposes) would otherwise surface as an unobserved task exception (found by the soak).
    /// </summary>
    public static IObservable<T> CreateAsync<T>(Func<IObserver<T>, CancellationToken, Task> produce) =>
        Observable.Create<T>((observer, ct) => ObserveAfterDisposal(produce(observer, ct), ct));

    private static async Task ObserveAfterDisposal(Task produced, CancellationToken ct)
    {
        try
        {
            await produced.ConfigureAwait(false);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // The subscriber left: there is no one to tell, and the response already closed its connection.
        }
    }

    /// <summary>
    /// As <see cref="FromAsync{T}"/> for work that takes one state object: no closure or delegate per call when
    /// <paramref name="run"/> is a static lambda.
    /// </summary>
    public static IObservable<T> FromAsync<TState, T>(TState state, Func<TState, CancellationToken, Task<T>> run, Action<T>? orphan = null) =>
        new FromAsyncObservable<TState, T>(state, run, orphan);

    private sealed class FromAsyncObservable<TState, T>(TState state, Func<TState, CancellationToken, Task<T>> run, Action<T>? orphan) : IObservable<T>
    {
        public IDisposable Subscribe(IObserver<T> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            var sink = new FromAsyncSink<T>(observer, orphan, CtsCache.Rent(), completion: true);
            Task<T> task;
            try
            {
                task = run(state, sink.Token);
            }
            catch (Exception e)
            {
                observer.OnError(e);
                return Disposable.Empty;
            }
            return sink.Start(task);
        }
    }

    // One object per subscription is the whole state: it is the continuation's state and the subscription's
    // disposable, instead of a closure, a delegate and an anonymous disposable per request.
    // Completion: whether OnDone marks a CompletionScope. Only where the task ends an async method of RxHttp's own
    // (an exchange, a body read), which holds no lock as it ends; a websocket's receive may be completed elsewhere.
    private sealed class FromAsyncSink<T>(IObserver<T> observer, Action<T>? orphan, CancellationTokenSource cts, bool completion = false) : IDisposable
    {
        private readonly CancellationTokenSource _cts = cts;
        private int _state; // 0 running, 1 disposed (cancelled), 2 finished

        public CancellationToken Token => _cts.Token;

        public IDisposable Run(Func<CancellationToken, Task<T>> run)
        {
            Task<T> task;
            try
            {
                task = run(_cts.Token);
            }
            catch (Exception e)
            {
                observer.OnError(e);
                return Disposable.Empty;
            }
            return Start(task);
        }

        public IDisposable Start(Task<T> task)
        {
            // Done already: delivered inside Subscribe, so an exception the observer throws comes out of Subscribe.
            if (task.IsCompleted) OnDone(task);
            else task.ContinueWith(static (t, state) => ((FromAsyncSink<T>)state!).OnDoneLater(t), this,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return this;
        }

        // In the task's continuation, an exception the observer threw would fault a task nobody looks at: the
        // subscriber's own bug vanished (a Subscribe(onNext) that throws, or Rx's default OnError). It goes where
        // an observer's exception goes from RxHttp's other producers instead.
        public void OnDoneLater(Task<T> t)
        {
            try
            {
                OnDone(t);
            }
            catch (Exception e)
            {
                ObserverFaults.Unhandled(ExceptionDispatchInfo.Capture(e));
            }
        }

        public void OnDone(Task<T> t)
        {
            // A body or response that arrived asynchronously: requests subscribed from its observers start once this returns.
            using var scope = completion ? CompletionScope.Enter() : default;
            if (Interlocked.CompareExchange(ref _state, 2, 0) != 0)
            {
                if (t.IsCompletedSuccessfully) orphan?.Invoke(t.Result);
                else _ = t.Exception; // observed
                return;
            }
            // Finished before any disposal, so nobody will cancel it any more: the next request may reuse it.
            CtsCache.Return(_cts);
            if (t.IsCompletedSuccessfully)
            {
                observer.OnNext(t.Result);
                observer.OnCompleted();
            }
            else if (t.IsCanceled) observer.OnError(new OperationCanceledException());
            else observer.OnError(t.Exception!.InnerExceptions.Count == 1 ? t.Exception.InnerException! : t.Exception);
        }

        public void Dispose()
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) return;
            _cts.Cancel();
        }
    }

    /// <summary>
    /// Like <see cref="FromAsync{T}"/> for work that usually finishes synchronously (a body already buffered):
    /// then the value is delivered during Subscribe with no task, continuation or scheduler hop.
    /// </summary>
    public static IObservable<T> FromValueTask<T>(Func<CancellationToken, ValueTask<T>> run) =>
        new FromValueTaskObservable<Func<CancellationToken, ValueTask<T>>, T>(run, static (r, ct) => r(ct));

    /// <summary>As <see cref="FromValueTask{T}"/> with one state object, so a static lambda costs no delegate per call.</summary>
    public static IObservable<T> FromValueTask<TState, T>(TState state, Func<TState, CancellationToken, ValueTask<T>> run) =>
        new FromValueTaskObservable<TState, T>(state, run);

    private sealed class FromValueTaskObservable<TState, T>(TState state, Func<TState, CancellationToken, ValueTask<T>> run) : IObservable<T>
    {
        public IDisposable Subscribe(IObserver<T> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            var cts = CtsCache.Rent();
            ValueTask<T> pending;
            try
            {
                pending = run(state, cts.Token);
            }
            catch (Exception e)
            {
                CtsCache.Return(cts);
                observer.OnError(e);
                return Disposable.Empty;
            }
            if (pending.IsCompletedSuccessfully)
            {
                var value = pending.Result;
                CtsCache.Return(cts);
                observer.OnNext(value);
                observer.OnCompleted();
                return Disposable.Empty;
            }
            var sink = new FromAsyncSink<T>(observer, null, cts, completion: true);
            pending.AsTask().ContinueWith(static (t, state) => ((FromAsyncSink<T>)state!).OnDoneLater(t), sink,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return sink;
        }
    }

    /// <summary>
    /// Cancellation sources are reused once their operation finished uncancelled (<see cref="CancellationTokenSource.TryReset"/>):
    /// every request needs one for its subscription to be cancellable, and almost none is ever cancelled. Reuse also
    /// keeps the source's registration nodes, which socket reads with a cancellable token would otherwise allocate.
    /// </summary>
    internal static class CtsCache
    {
        [ThreadStatic] private static CancellationTokenSource? t_cached;

        public static CancellationTokenSource Rent()
        {
            var cts = t_cached;
            if (cts is null) return new CancellationTokenSource();
            t_cached = null;
            return cts;
        }

        public static void Return(CancellationTokenSource cts)
        {
            if (cts.TryReset()) t_cached = cts;
        }
    }
}
