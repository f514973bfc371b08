using System.Reactive.Concurrency;
using System.Reactive.Subjects;

namespace RxHttp;

/// <summary>
/// What requests publish <see cref="ClientSession.Trace"/> events to. Every request raises its events on its own
/// threads, so the bare subject called a Trace observer from two requests at once (and session close could complete
/// it during an OnNext), which Rx observers (<c>Scan</c>, <c>Buffer</c>, <c>ToList</c>, a logger's state) assume
/// never happens. Queued rather than locked: an event raised while another is being delivered is handed to the
/// delivering thread, so a Trace observer that blocks or starts a request cannot deadlock against a lock RxHttp
/// holds while it reports. An observer's exception is dropped per event, as before: tracing never breaks what it
/// traces, and a throw must not stop the queue for the events after it.
/// </summary>
internal sealed class SerializedTraceSink(Subject<TraceEvent> subject) : ISubject<TraceEvent>
{
    private readonly AsyncLock _gate = new();

    public void OnNext(TraceEvent value) => _gate.Wait(() =>
    {
        try
        {
            subject.OnNext(value);
        }
        catch (Exception)
        {
            // Dropped, as RequestTracer.Publish drops it.
        }
    });

    public void OnError(Exception error) => _gate.Wait(() => subject.OnError(error));

    public void OnCompleted() => _gate.Wait(subject.OnCompleted);

    public IDisposable Subscribe(IObserver<TraceEvent> observer) => subject.Subscribe(observer);
}
