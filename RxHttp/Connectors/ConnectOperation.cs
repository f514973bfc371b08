using System.Reactive.Concurrency;

namespace RxHttp;

/// <summary>One subscription to <see cref="Connect(ConnectionKey)"/>: takes a slot or waits for one, opens or takes idle, and hands the lease over once.</summary>
public abstract partial class BaseConnector
{
    // Cold: each subscription is one ConnectOperation (no closure, delegate or wrapper observer per request).
    private sealed class ConnectObservable(BaseConnector pool, ConnectionKey key, ClientTimeout? timeout, IScheduler? scheduler) : IObservable<Connection>
    {
        public IDisposable Subscribe(IObserver<Connection> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            var op = new ConnectOperation(pool, key, timeout, scheduler, observer);
            op.Start();
            return op;
        }
    }

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
            Connection? lease = null;
            var open = false;
            List<Connection>? stale = null;
            bool closed;
            lock (_pool._gate)
            {
                closed = _pool._closed;
                if (!closed)
                {
                    if (_pool.TryAcquire(Key, Acquire.Newcomer, out var bucket, out lease, out open, ref stale)) Bucket = bucket!;
                    else
                    {
                        Node = _pool._waiters.AddLast(this);
                        _queued = true;
                    }
                }
                _pool.AssertInvariants();
            }
            if (closed)
            {
                Fail(ConnectorClosed()); // outside the gate: the observer is the user's code
                return;
            }
            if (_queued) ConnectorTrace.Emit(_trace, ConnectorTraceKind.QueuedStart);
            else Proceed(_pool, lease, open, stale);
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
            // At once if the connector closed since this opening took its slot.
            var closing = _pool._closing.Token.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), cts);
            try
            {
                c = await _pool.CreateConnectionAsync(Key, _timeout, cts.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                closing.Dispose();
            }
            bool closed;
            lock (_pool._gate)
            {
                _pool.AddOpening(Bucket, -1);
                closed = _pool._closed;
                if (c is not null && !closed)
                {
                    c.Bucket = Bucket;
                    _pool._leased.Add(c);
                }
                else _pool.Unacquire(Bucket);
                _pool.AssertInvariants();
            }
            if (c is null || closed)
            {
                c?.CloseCore();
                _pool.WakeWaiters();
                _pool.Publish();
                // An opening the close cancelled failed because of it: say so, as to a waiter.
                if (closed && (error is null || _pool._closing.IsCancellationRequested)) error = ConnectorClosed();
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
                _pool.AssertInvariants();
            }
            Volatile.Read(ref _cts)?.Cancel();
            if (wasWaiting) _pool.Publish();
        }
    }
}
