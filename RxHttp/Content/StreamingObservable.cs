namespace RxHttp;

/// <summary>
/// Observable.Create for a body's streaming loops (<see cref="ClientResponse.Content"/>, <see cref="ClientResponse.Lines"/>,
/// ...). Rx runs an async subscribe body inside <c>Subscribe</c> until its first await that does not complete at once; a
/// body that arrives faster than it is consumed never makes a read wait, so <c>Subscribe</c> would not return (and the
/// subscriber could not dispose) until the body ended, which for an endless stream is never. The loop reports each item
/// to a <see cref="Checkpoint"/>, which yields once after a few items delivered inside <c>Subscribe</c>, and never again
/// once <c>Subscribe</c> has returned: small bodies (and scripted ones in virtual time) stay synchronous.
/// </summary>
internal static class StreamingObservable
{
    public static IObservable<T> Create<T>(Func<IObserver<T>, Checkpoint, CancellationToken, Task> body) =>
        System.Reactive.Linq.Observable.Create<T>(observer =>
        {
            var checkpoint = new Checkpoint();
            // RxAsync.CreateAsync, not Observable.Create: it keeps observing the loop's task after disposal.
            var subscription = RxAsync.CreateAsync<T>((o, ct) => body(o, checkpoint, ct)).Subscribe(observer);
            checkpoint.Returned = true;
            return subscription;
        });

    /// <summary>An async sequence as an observable: cold, one enumeration per subscription, disposing cancels it.</summary>
    public static IObservable<T> From<T>(Func<CancellationToken, IAsyncEnumerable<T>> items) =>
        Create<T>(async (observer, checkpoint, ct) =>
        {
            await foreach (var item in items(ct).WithCancellation(ct).ConfigureAwait(false))
            {
                observer.OnNext(item);
                await checkpoint.AfterItem().ConfigureAwait(false);
            }
            observer.OnCompleted();
        });

    internal sealed class Checkpoint
    {
        // Items a loop may deliver inside Subscribe before it yields.
        internal const int ItemsInsideSubscribe = 16;
        private int _items;

        internal volatile bool Returned;

        /// <summary>Called after each item: completes at once unless the loop is still inside Subscribe past the bound.</summary>
        public ValueTask AfterItem() => !Returned && ++_items == ItemsInsideSubscribe ? YieldAsync() : default;

        // Not Task.Yield: that posts to the caller's SynchronizationContext or TaskScheduler when there is one, and a
        // context that runs posts inline would keep the loop inside Subscribe after all.
        private static async ValueTask YieldAsync() => await new ThreadPoolHop();
    }

    /// <summary>An awaitable that always continues on the thread pool, whatever context the caller runs in.</summary>
    private readonly struct ThreadPoolHop : System.Runtime.CompilerServices.ICriticalNotifyCompletion
    {
        public ThreadPoolHop GetAwaiter() => this;
        public bool IsCompleted => false;
        public void GetResult() { }
        public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);
        public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
    }
}
