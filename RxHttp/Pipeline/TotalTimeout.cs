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
            TimerWheel.For(scheduler).Schedule(Ceiling.Deadline(scheduler.Now, delay, ceilThreshold), sink);
            sink.SetInner(source.Subscribe(sink));
            return sink;
        }
    }

    // One object per request is observer, subscription and the wheel timer itself: the closures, delegates,
    // anonymous observer/disposable and timer handles of an Observable.Create version cost about ten allocations.
    private sealed class Sink(IObserver<ClientResponse> observer, TimeSpan delay) : TimerWheel.Timer, IObserver<ClientResponse>, IDisposable
    {
        private static readonly IDisposable Disposed = Disposable.Empty;
        private IDisposable? _inner; // Disposed once disposed
        private ClientResponse? _delivered;
        private bool _finished;

        // The sink is private to this operator, so it is its own lock.
        private object Gate => this;

        public void SetInner(IDisposable subscription)
        {
            if (Interlocked.CompareExchange(ref _inner, subscription, null) is not null) subscription.Dispose();
        }

        private void DisposeInner() => Interlocked.Exchange(ref _inner, Disposed)?.Dispose();

        protected internal override void Run()
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
                DisposeInner();
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
            // After delivery the timer belongs to the response's lifetime (body reading counts).
            if (response.Body is { } body) body.StopAtEnd(this);
            else Cancel();
            observer.OnNext(response);
        }

        public void OnError(Exception error)
        {
            lock (Gate)
            {
                if (_finished) return;
                _finished = true;
            }
            Cancel();
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
            if (!anyDelivered) Cancel();
            observer.OnCompleted();
        }

        public void Dispose()
        {
            DisposeInner();
            lock (Gate)
            {
                if (_delivered is not null) return;
                _finished = true;
            }
            Cancel();
        }
    }
}
