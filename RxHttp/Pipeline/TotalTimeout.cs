using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
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
        return Observable.Create<ClientResponse>(observer =>
        {
            var gate = new object();
            ClientResponse? delivered = null;
            var finished = false;
            var inner = new SingleAssignmentDisposable();
            var timer = new SingleAssignmentDisposable();
            var due = Ceiling.Deadline(scheduler.Now, delay, ceilThreshold);
            timer.Disposable = TimerWheel.For(scheduler).Schedule(due, 0, _ =>
            {
                ClientResponse? response;
                lock (gate)
                {
                    if (finished && delivered is null) return;
                    finished = true;
                    response = delivered;
                }
                var error = new TotalTimeoutError($"Total timeout of {delay.TotalSeconds:0.###} s exceeded");
                if (response is null)
                {
                    inner.Dispose();
                    observer.OnError(error);
                }
                else
                {
                    response.AbortWith(error);
                }
            });
            inner.Disposable = source.Subscribe(
                response =>
                {
                    lock (gate)
                    {
                        if (finished)
                        {
                            response.Release();
                            return;
                        }
                        delivered = response;
                    }
                    response.OnReleased(() => timer.Dispose());
                    observer.OnNext(response);
                },
                error =>
                {
                    lock (gate)
                    {
                        if (finished) return;
                        finished = true;
                    }
                    timer.Dispose();
                    observer.OnError(error);
                },
                () =>
                {
                    bool anyDelivered;
                    lock (gate)
                    {
                        if (finished && delivered is null) return;
                        finished = true;
                        anyDelivered = delivered is not null;
                    }
                    if (!anyDelivered) timer.Dispose();
                    observer.OnCompleted();
                });
            return Disposable.Create(() =>
            {
                inner.Dispose();
                lock (gate)
                {
                    // After delivery the timer belongs to the response's lifetime (body reading counts).
                    if (delivered is not null) return;
                    finished = true;
                }
                timer.Dispose();
            });
        });
    }
}
