using System.Reactive.Concurrency;
using System.Reactive.Linq;

namespace RxHttp;

/// <summary>A subscriber waiting for a lease: in the FIFO queue at the limit, then opening or taking a connection.</summary>
public abstract partial class BaseConnector
{
    private abstract class Waiter
    {
        public ConnectionKey Key { get; init; } = null!;
        public LinkedListNode<Waiter>? Node { get; set; }
        // Its key's bucket once it holds a slot (acquired): openings account against it.
        public HostPool Bucket { get; set; } = null!;
        public abstract void Grant(Connection c);
        public abstract void Open();
        public abstract void Fail(Exception e);
    }

    /// <summary>One subscription to <see cref="Connect(ConnectionKey)"/>: waits, opens or takes idle, and hands the lease over once.</summary>
    private sealed class ConnectOperation : Waiter, IDisposable
    {
        private readonly BaseConnector _pool;
        private readonly IObserver<Connection> _observer;
        private CancellationTokenSource? _cts; // only an opening needs one: most leases are idle connections
        private readonly ClientTimeout? _timeout;
        private readonly IScheduler? _scheduler;
        private readonly Action<ConnectorTraceKind>? _trace = ConnectorTrace.Current.Value;
        private bool _queued;
        private int _done; // 1 once the observer got a terminal message or the subscription was disposed

        public ConnectOperation(BaseConnector pool, ConnectionKey key, ClientTimeout? timeout, IScheduler? scheduler, IObserver<Connection> observer)
        {
            _pool = pool;
            _observer = observer;
            _timeout = timeout;
            _scheduler = scheduler;
            Key = key;
        }

        public void Start()
        {
            Connection? idle = null;
            var open = false;
            List<Connection>? stale = null;
            lock (_pool._gate)
            {
                if (_pool._closed)
                {
                    Fail(new ClientConnectionError("Connector is closed."));
                    return;
                }
                if (_pool.HasCapacity(_pool.Find(Key)) && !_pool.MustQueueBehind(Key))
                {
                    Bucket = _pool.BucketFor(Key);
                    _pool.AddAcquired(Bucket, 1);
                    idle = _pool.TakeIdle(Bucket, ref stale);
                    if (idle is not null) _pool._leased.Add(idle);
                    else
                    {
                        _pool._opening++;
                        open = true;
                    }
                }
                else
                {
                    Node = _pool._waiters.AddLast(this);
                    _queued = true;
                }
            }
            if (_queued) ConnectorTrace.Emit(_trace, ConnectorTraceKind.QueuedStart);
            if (stale is not null) foreach (var s in stale) s.CloseCore();
            if (idle is not null)
            {
                idle = _pool.ReplaceIfStale(Bucket, idle, ref open);
                if (idle is null && !open) Fail(new ClientConnectionError("Connector is closed."));
            }
            if (idle is not null) Grant(idle);
            else if (open) Open();
            _pool.Publish();
        }

        public override void Grant(Connection c)
        {
            if (Interlocked.Exchange(ref _done, 1) != 0)
            {
                // Disposed while the lease was on its way: give it back untouched.
                c.Release();
                return;
            }
            if (_queued) ConnectorTrace.Emit(_trace, ConnectorTraceKind.QueuedEnd);
            if (c.IsReused) ConnectorTrace.Emit(_trace, ConnectorTraceKind.Reuse);
            _observer.OnNext(c);
            _observer.OnCompleted();
        }

        public override void Open() => _ = OpenAsync();

        // Never faults: every exception is caught and routed to the observer, so nothing goes unobserved.
        private async Task OpenAsync()
        {
            Connection? c = null;
            Exception? error = null;
            if (_queued) ConnectorTrace.Emit(_trace, ConnectorTraceKind.QueuedEnd);
            ConnectorTrace.Current.Value = _trace;
            OpeningScheduler.Value = _scheduler;
            ConnectorTrace.Emit(_trace, ConnectorTraceKind.CreateStart);
            var cts = new CancellationTokenSource();
            // Published before reading _done, as Dispose sets _done before reading _cts: one of the two cancels.
            Interlocked.Exchange(ref _cts, cts);
            if (Volatile.Read(ref _done) != 0) cts.Cancel();
            try
            {
                c = await _pool.CreateConnectionAsync(Key, _timeout, cts.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                error = e;
            }
            bool closed;
            lock (_pool._gate)
            {
                _pool._opening--;
                closed = _pool._closed;
                if (c is not null && !closed)
                {
                    c.Bucket = Bucket;
                    _pool._leased.Add(c);
                }
                else _pool.Unacquire(Bucket);
            }
            if (c is null || closed)
            {
                c?.CloseCore();
                _pool.WakeWaiters();
                _pool.Publish();
                if (closed && error is null) error = new ClientConnectionError("Connector is closed.");
                Fail(error!);
                return;
            }
            _pool.Publish();
            ConnectorTrace.Emit(_trace, ConnectorTraceKind.CreateEnd);
            Grant(c);
        }

        public override void Fail(Exception e)
        {
            if (Interlocked.Exchange(ref _done, 1) != 0) return;
            _observer.OnError(e);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0) return;
            var wasWaiting = false;
            lock (_pool._gate)
            {
                if (Node is not null)
                {
                    _pool._waiters.Remove(Node);
                    Node = null;
                    wasWaiting = true;
                }
            }
            Volatile.Read(ref _cts)?.Cancel();
            if (wasWaiting) _pool.Publish();
        }
    }
}
