using System.Diagnostics;
using System.Reactive.Disposables;

namespace RxHttp;

/// <summary>
/// One subscription of a traced hop (<see cref="TracingOperator.TraceHops"/>): reports the hop's start to the
/// request's tracer, keeps the hop's span current while the hop is subscribed (so middlewares below it see it), and
/// ends the hop's span and metrics with its response head, its failure or its disposal, whichever comes first.
/// </summary>
internal sealed class TracedHop(RequestHandler hop, ClientRequest request) : IObservable<ClientResponse>
{
    public IDisposable Subscribe(IObserver<ClientResponse> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        if (request.Plan.Tracer is not { } tracer) return Start(hop, request, observer);
        var previous = Activity.Current;
        try
        {
            var sent = request;
            var telemetry = tracer.StartHop(ref sent);
            if (telemetry is null) return Start(hop, sent, observer);
            var sink = new HopObserver(observer, telemetry);
            sink.Inner = Start(hop, sent, sink);
            return sink;
        }
        finally
        {
            // The span was current for the hop's subscription only: the subscriber's thread gets its own back.
            if (!ReferenceEquals(Activity.Current, previous)) Activity.Current = previous is { IsStopped: false } ? previous : null;
        }
    }

    // As Observable.Defer: a handler that throws fails the subscription instead of the caller.
    private static IDisposable Start(RequestHandler hop, ClientRequest request, IObserver<ClientResponse> observer)
    {
        IObservable<ClientResponse> source;
        try
        {
            source = hop(request);
        }
        catch (Exception e)
        {
            observer.OnError(e);
            return Disposable.Empty;
        }
        return source.Subscribe(observer);
    }

    private sealed class HopObserver(IObserver<ClientResponse> observer, HopTelemetry telemetry) : IObserver<ClientResponse>, IDisposable
    {
        private IDisposable? _inner;
        private bool _disposed;

        public IDisposable? Inner
        {
            set
            {
                bool dispose;
                lock (this)
                {
                    dispose = _disposed;
                    if (!dispose) _inner = value;
                }
                if (dispose) value?.Dispose();
            }
        }

        public void OnNext(ClientResponse value)
        {
            telemetry.End(value, null);
            observer.OnNext(value);
        }

        public void OnError(Exception error)
        {
            telemetry.End(null, error);
            observer.OnError(error);
        }

        public void OnCompleted()
        {
            telemetry.End(null, null);
            observer.OnCompleted();
        }

        public void Dispose()
        {
            IDisposable? inner;
            lock (this)
            {
                _disposed = true;
                inner = _inner;
                _inner = null;
            }
            // Before any response: the hop was cancelled (a no-op once it ended).
            telemetry.End(null, null, cancelled: true);
            inner?.Dispose();
        }
    }
}
