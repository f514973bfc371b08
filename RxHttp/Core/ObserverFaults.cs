using System.Runtime.ExceptionServices;

namespace RxHttp;

/// <summary>
/// Where an exception a subscriber throws from its own <c>OnNext</c>, <c>OnError</c> or <c>OnCompleted</c> goes once
/// <c>Subscribe</c> has returned: RxHttp's producers run on socket and pool threads, and Rx sends an observer's
/// exception up the producer's thread, which for a thread-pool producer is an unhandled exception. Inside
/// <c>Subscribe</c> the exception comes out of <c>Subscribe</c> instead. Left in a task, it vanished.
/// </summary>
internal static class ObserverFaults
{
    /// <summary>Raises a subscriber's exception after Subscribe returned (tests replace it; default: the thread pool, unhandled).</summary>
    internal static Action<ExceptionDispatchInfo> Unhandled { get; set; } =
        static fault => ThreadPool.UnsafeQueueUserWorkItem(static f => f.Throw(), fault, preferLocal: false);
}
