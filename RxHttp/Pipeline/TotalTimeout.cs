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
            var sink = new Sink(observer, delay, ceilThreshold, scheduler);
            sink.SetInner(source.Subscribe(sink));
            return sink;
        }
    }

    // The engine's own deadline (TotalDeadline) as an operator: one object per request is observer, subscription and
    // the wheel timer itself.
    private sealed class Sink : TotalDeadline, IObserver<ClientResponse>, IDisposable
    {
        private static readonly IDisposable Disposed = Disposable.Empty;
        private readonly IObserver<ClientResponse> _observer;
        private IDisposable? _inner; // Disposed once disposed

        public Sink(IObserver<ClientResponse> observer, TimeSpan delay, TimeSpan ceilThreshold, IScheduler scheduler)
        {
            _observer = observer;
            Arm(scheduler, delay, ceilThreshold);
        }

        public void SetInner(IDisposable subscription)
        {
            if (Interlocked.CompareExchange(ref _inner, subscription, null) is not null) subscription.Dispose();
        }

        private void DisposeInner() => Interlocked.Exchange(ref _inner, Disposed)?.Dispose();

        protected override void OnDeadline(TotalTimeoutError error)
        {
            DisposeInner();
            _observer.OnError(error);
        }

        public void OnNext(ClientResponse response)
        {
            lock (Gate)
            {
                if (Finished)
                {
                    response.Release();
                    return;
                }
                Deliver(response);
            }
            // After delivery the timer belongs to the response's lifetime (body reading counts).
            HandOver(response);
            _observer.OnNext(response);
        }

        public void OnError(Exception error)
        {
            lock (Gate)
            {
                if (Finished) return;
                Finished = true;
            }
            StopTimer();
            _observer.OnError(error);
        }

        public void OnCompleted()
        {
            bool anyDelivered;
            lock (Gate)
            {
                if (Finished && !WasDelivered) return;
                Finished = true;
                anyDelivered = WasDelivered;
            }
            if (!anyDelivered) StopTimer();
            _observer.OnCompleted();
        }

        public void Dispose()
        {
            DisposeInner();
            lock (Gate)
            {
                if (WasDelivered) return;
                Finished = true;
            }
            StopTimer();
        }
    }
}
