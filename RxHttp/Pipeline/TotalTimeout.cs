using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>The Total timeout as an operator over a response observable.</summary>
public static class TotalTimeoutOperator
{
    /// <summary>
    /// Fails with <see cref="TotalTimeoutError"/> when no response arrived by the deadline, or aborts the delivered
    /// response's body reading when it is still reading then. The timer stops when the response's connection is
    /// released (body read to the end, released or disposed). The deadline is ceiled as <see cref="Ceiling"/> says.
    /// </summary>
    public static IObservable<ClientResponse> TotalTimeout(this IObservable<ClientResponse> source, TimeSpan? total, TimeSpan ceilThreshold, IScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(scheduler);
        if (ClientTimeout.Active(total) is not { } delay) return source;
        return new TotalTimeoutObservable(source, delay, ceilThreshold, scheduler);
    }

    private sealed class TotalTimeoutObservable(IObservable<ClientResponse> source, TimeSpan delay, TimeSpan ceilThreshold, IScheduler scheduler) : IObservable<ClientResponse>
    {
        public IDisposable Subscribe(IObserver<ClientResponse> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            var sink = new Sink(observer, delay);
            var due = Ceiling.Deadline(scheduler.Now, delay, ceilThreshold);
            sink.Timer.Disposable = TimerWheel.For(scheduler).Schedule(due, sink, static s => s.OnTimeout());
            sink.Inner.Disposable = source.Subscribe(sink);
            return sink;
        }
    }

    // One object per request is observer, subscription and release callback: the closures, delegates and
    // anonymous observer/disposable of an Observable.Create version cost about ten allocations per request.
    private sealed class Sink(IObserver<ClientResponse> observer, TimeSpan delay) : IObserver<ClientResponse>, IDisposable
    {
        public readonly SingleAssignmentDisposable Inner = new();
        public readonly SingleAssignmentDisposable Timer = new();
        private ClientResponse? _delivered;
        private bool _finished;

        // A private object of the sink's own, so no separate gate object is allocated per request.
        private object Gate => Timer;

        public void OnTimeout()
        {
            ClientResponse? response;
            lock (Gate)
            {
                if (_finished && _delivered is null) return;
                _finished = true;
                response = _delivered;
            }
            var error = new TotalTimeoutError($"Total timeout of {delay.TotalSeconds:0.###} s exceeded");
            if (response is null)
            {
                Inner.Dispose();
                observer.OnError(error);
            }
            else
            {
                response.AbortWith(error);
            }
        }

        public void OnNext(ClientResponse response)
        {
            lock (Gate)
            {
                if (_finished)
                {
                    response.Release();
                    return;
                }
                _delivered = response;
            }
            response.OnReleased(Timer);
            observer.OnNext(response);
        }

        public void OnError(Exception error)
        {
            lock (Gate)
            {
                if (_finished) return;
                _finished = true;
            }
            Timer.Dispose();
            observer.OnError(error);
        }

        public void OnCompleted()
        {
            bool anyDelivered;
            lock (Gate)
            {
                if (_finished && _delivered is null) return;
                _finished = true;
                anyDelivered = _delivered is not null;
            }
            if (!anyDelivered) Timer.Dispose();
            observer.OnCompleted();
        }

        public void Dispose()
        {
            Inner.Dispose();
            lock (Gate)
            {
                // After delivery the timer belongs to the response's lifetime (body reading counts).
                if (_delivered is not null) return;
                _finished = true;
            }
            Timer.Dispose();
        }
    }
}
