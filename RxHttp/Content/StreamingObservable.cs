namespace RxHttp;

/// <summary>
/// Observable.Create for a body's streaming loops (<see cref="ClientResponse.Content"/>, <see cref="ClientResponse.Lines"/>,
/// ...). Rx runs an async subscribe body inside <c>Subscribe</c> until its first await that does not complete at once; a
/// body that arrives faster than it is consumed never makes a read wait, so <c>Subscribe</c> would not return (and the
/// subscriber could not dispose) until the body ended, which for an endless stream is never. The loop reports each item
/// to a <see cref="Checkpoint"/>, which yields once after a few items delivered inside <c>Subscribe</c>, and never again
/// once <c>Subscribe</c> has returned: small bodies (and scripted ones in virtual time) stay synchronous.
/// <para>
/// An exception the subscriber throws from its own <c>OnNext</c>, <c>OnError</c> or <c>OnCompleted</c> (Rx's default
/// <c>OnError</c> throws too) is the subscriber's, not the body's: the loop stops and closes the connection, and the
/// exception goes where Rx sends it from any producer. Inside <c>Subscribe</c> it is thrown out of
/// <c>Subscribe</c>; later, on the thread pool as an unhandled exception, as one thrown by an observer of a response
/// does (its socket completion runs it). Before, the loop took it for its own failure and reported it to the observer
/// that had just thrown it, which Rx drops: it vanished.
/// </para>
/// </summary>
internal static class StreamingObservable
{
    /// <param name="body">The loop.</param>
    /// <param name="virtualClock">
    /// The body is read on a virtual-time clock: its loop never yields to the thread pool, where the test's clock would
    /// not wait for it; every byte of it there was delivered by a scheduler action, so the loop ends or waits soon.
    /// </param>
    public static IObservable<T> Create<T>(Func<IObserver<T>, Checkpoint, CancellationToken, Task> body, bool virtualClock = false) =>
        System.Reactive.Linq.Observable.Create<T>(observer =>
        {
            var checkpoint = new Checkpoint(virtualClock);
            var guard = new ObserverGuard<T>();
            // RxAsync.CreateAsync, not Observable.Create: it keeps observing the loop's task after disposal.
            var subscription = RxAsync.CreateAsync<T>(async (o, ct) =>
            {
                guard.Observer = o;
                try
                {
                    try
                    {
                        await body(guard, checkpoint, ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (guard.Fault is null && !ct.IsCancellationRequested)
                    {
                        // The body's own failure, told through the guard: an OnError that throws is the subscriber's.
                        guard.OnError(e);
                    }
                }
                catch (Exception) when (guard.Fault is not null)
                {
                    // Inside Subscribe, Subscribe throws it below.
                    if (checkpoint.Returned && guard.TryTake() is { } fault) ObserverFaults.Unhandled(fault);
                }
            }).Subscribe(observer);
            checkpoint.Returned = true;
            if (guard.Fault is not null && guard.TryTake() is { } thrown)
            {
                subscription.Dispose();
                thrown.Throw();
            }
            return subscription;
        });

    /// <summary>The subscriber as the loop calls it, noting an exception the subscriber throws.</summary>
    private sealed class ObserverGuard<T> : IObserver<T>
    {
        public IObserver<T> Observer = null!;
        private volatile System.Runtime.ExceptionServices.ExceptionDispatchInfo? _fault;
        private int _taken;

        public System.Runtime.ExceptionServices.ExceptionDispatchInfo? Fault => _fault;

        /// <summary>The fault for whoever surfaces it first (the loop, or Subscribe as it returns); null for the other.</summary>
        public System.Runtime.ExceptionServices.ExceptionDispatchInfo? TryTake() => Interlocked.Exchange(ref _taken, 1) == 0 ? _fault : null;

        public void OnNext(T value)
        {
            try
            {
                Observer.OnNext(value);
            }
            catch (Exception e)
            {
                _fault ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                throw;
            }
        }

        public void OnError(Exception error)
        {
            try
            {
                Observer.OnError(error);
            }
            catch (Exception e)
            {
                _fault ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                throw;
            }
        }

        public void OnCompleted()
        {
            try
            {
                Observer.OnCompleted();
            }
            catch (Exception e)
            {
                _fault ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                throw;
            }
        }
    }

    /// <summary>An async sequence as an observable: cold, one enumeration per subscription, disposing cancels it.</summary>
    public static IObservable<T> From<T>(Func<CancellationToken, IAsyncEnumerable<T>> items, bool virtualClock = false) =>
        Create<T>(async (observer, checkpoint, ct) =>
        {
            await foreach (var item in items(ct).WithCancellation(ct).ConfigureAwait(false))
            {
                observer.OnNext(item);
                await checkpoint.AfterItem();
            }
            observer.OnCompleted();
        }, virtualClock);

    internal sealed class Checkpoint(bool virtualClock = false)
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
        public ThreadPoolHop AfterItem() => new(!virtualClock && !Returned && ++_items == ItemsInsideSubscribe);
    }
}
