using System.Reactive.Subjects;

namespace RxHttp;

/// <summary>
/// Completes <see cref="ClientSession.Trace"/> once the session is closed and every request that reported its
/// RequestStart has reported its end. Closing aborts the requests in flight, but their failures surface afterwards
/// on socket threads: completing at <see cref="ClientSession.Close"/> itself dropped their RequestException, so a
/// consumer pairing starts with ends (the ILogger sink among them) never saw those requests end. aiohttp's
/// session.close() lets on_request_exception fire for them too.
/// </summary>
internal sealed class TraceCompletion(ISubject<TraceEvent> sink)
{
    private int _inFlight;
    private int _closing;
    private int _completed;

    public void Started() => Interlocked.Increment(ref _inFlight);

    // Interlocked on both sides: of a last end and a close racing, at least one sees the other's write.
    public void Ended()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _closing) != 0) Complete();
    }

    public void Close()
    {
        Interlocked.Exchange(ref _closing, 1);
        if (Volatile.Read(ref _inFlight) == 0) Complete();
    }

    private void Complete()
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0) sink.OnCompleted();
    }
}
