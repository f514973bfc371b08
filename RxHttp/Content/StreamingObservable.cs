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
                await checkpoint.AfterItem();
            }
            observer.OnCompleted();
        });

    internal sealed class Checkpoint
    {
        // Items a loop may deliver inside Subscribe before it yields.
        internal const int ItemsInsideSubscribe = 16;
        private int _items;

        internal volatile bool Returned;

        /// <summary>
        /// Awaited after each item: completes at once unless the loop is still inside Subscribe past the bound, and then
        /// the loop's own continuation goes to the thread pool.
        /// </summary>
        // The hop itself, not an async method awaiting one (see ThreadPoolHop): CI once saw a loop that went on inline,
        // inside Subscribe, for the rest of the body.
        public ThreadPoolHop AfterItem() => new(!Returned && ++_items == ItemsInsideSubscribe);
    }
}
