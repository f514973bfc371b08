namespace RxHttp.Tests.Support;

/// <summary>
/// Catches the exception a subscriber throws after <c>Subscribe</c> returned, which RxHttp raises unhandled on the
/// thread pool (<see cref="ObserverFaults"/>): a test would otherwise end the test host to see it.
/// </summary>
public static class ObserverFaultCapture
{
    /// <summary>Runs <paramref name="run"/> with the hook replaced and returns the first exception raised through it.</summary>
    public static async Task<Exception> Surfaced(Func<Task> run)
    {
        var surfaced = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var original = ObserverFaults.Unhandled;
        ObserverFaults.Unhandled = fault => surfaced.TrySetResult(fault.SourceException);
        try
        {
            await run();
            return await surfaced.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            ObserverFaults.Unhandled = original;
        }
    }
}
