using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// <see cref="ClientTimeout.Connect"/> around a lease: the lease must arrive by its deadline, else the wait (a queued
/// slot, an opening) is given up and the subscriber gets the error. Not Rx's <c>Timeout</c>: a lease granted just as
/// the deadline passed was dropped there, and its pool slot with it, since a lease already handed out cannot be
/// taken back by disposing; here it goes back to the pool. And on the timer wheel, as every other timer of a
/// request: Rx keeps a cancelled absolute-time timer queued until its deadline, one per new connection.
/// </summary>
internal sealed class LeaseDeadline(IObservable<Connection> source, DateTimeOffset due, IScheduler scheduler, Func<Exception> error) : IObservable<Connection>
{
    public IDisposable Subscribe(IObserver<Connection> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var sink = new Sink(observer, error);
        // Armed before the source runs: a lease handed over during Subscribe then finds the timer to cancel.
        sink.Timer = TimerWheel.For(scheduler).Schedule(due, sink, static s => s.Expire());
        sink.Upstream.Disposable = source.Subscribe(sink);
        return sink;
    }

    private sealed class Sink(IObserver<Connection> observer, Func<Exception> error) : IObserver<Connection>, IDisposable
    {
        public readonly SingleAssignmentDisposable Upstream = new();
        public IDisposable? Timer;
        private int _state; // 0 waiting, 1 lease handed on, 2 ended (expired, terminated or disposed)

        public void OnNext(Connection value)
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            {
                // Past the deadline, or disposed, while the lease was on its way: nobody will use it.
                value.Release();
                return;
            }
            Timer!.Dispose();
            observer.OnNext(value);
        }

        public void OnError(Exception e)
        {
            if (Interlocked.Exchange(ref _state, 2) == 2) return;
            Timer!.Dispose();
            observer.OnError(e);
        }

        public void OnCompleted()
        {
            if (Interlocked.Exchange(ref _state, 2) == 2) return;
            Timer!.Dispose();
            observer.OnCompleted();
        }

        public void Expire()
        {
            if (Interlocked.CompareExchange(ref _state, 2, 0) != 0) return;
            Upstream.Dispose();
            observer.OnError(error());
        }

        public void Dispose()
        {
            Volatile.Write(ref _state, 2);
            Timer?.Dispose();
            Upstream.Dispose();
        }
    }
}
