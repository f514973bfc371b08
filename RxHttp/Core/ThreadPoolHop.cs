namespace RxHttp;

/// <summary>
/// An awaitable that, when it hops, continues the awaiting method on the thread pool whatever context the caller runs
/// in. Not <c>Task.Yield</c>: that posts to the caller's SynchronizationContext or TaskScheduler, and one that runs
/// posts inline would not leave the caller after all (its lock, its <c>Subscribe</c>, the store it must finish first).
/// The awaiter is the hop itself, with no completion of its own: an async method awaiting one and awaited in turn
/// could be finished by the pool before its caller looked, and the caller would go on inline.
/// </summary>
/// <param name="hop">False: completes at once, on the caller's thread.</param>
internal readonly struct ThreadPoolHop(bool hop) : System.Runtime.CompilerServices.ICriticalNotifyCompletion
{
    /// <summary>Always hops.</summary>
    public static ThreadPoolHop Always => new(true);

    public ThreadPoolHop GetAwaiter() => this;
    public bool IsCompleted => !hop;
    public void GetResult() { }
    public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);
    public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
}
