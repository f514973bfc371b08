namespace RxHttp;

/// <summary>
/// The queue at the limit (SocketsHttpHandler's request queue): subscribers that found no slot wait here in FIFO
/// order across keys, and each freed slot wakes the first one it can serve.
/// </summary>
public abstract partial class BaseConnector
{
    /// <summary>A subscriber waiting for a lease: in the FIFO queue at the limit, then opening or taking a connection.</summary>
    private abstract class Waiter
    {
        public ConnectionKey Key { get; init; } = null!;
        public LinkedListNode<Waiter>? Node { get; set; }
        // Its key's bucket once it holds a slot (acquired): openings account against it.
        public HostPool Bucket { get; set; } = null!;
        public abstract void Grant(Connection c);
        public abstract void Open();
        public abstract void Fail(Exception e);

        /// <summary>Outside the gate, after <see cref="TryAcquire"/> gave this waiter a slot: hands over the lease, opens, or fails.</summary>
        public void Proceed(BaseConnector pool, Connection? lease, bool mustOpen, List<Connection>? stale)
        {
            lease = pool.Settle(Bucket, lease, ref mustOpen, stale, readAhead: false);
            if (lease is not null) Grant(lease);
            else if (mustOpen) Open();
            else Fail(ConnectorClosed());
        }
    }

    private static ClientConnectionError ConnectorClosed() => new("Connector is closed.");

    // FIFO: a newcomer queues behind a waiter for its own key, or behind one that is about to be woken. Waiters
    // held back only by their own per-host limit do not block other hosts.
    private bool MustQueueBehind(ConnectionKey key)
    {
        foreach (var w in _waiters)
            if (w.Key == key || HasCapacity(Find(w.Key))) return true;
        return false;
    }

    // The waiter a connection of `key` being released goes to: the first of its key, unless a waiter of another key
    // queued before it, which the freed slot lets open (only its own per-host limit could still hold it back). That
    // one goes first, and the connection idles for the next of its key: handing it over regardless let a steady stream
    // of requests to one host starve a request to another at the limit for as long as the stream lasted.
    private LinkedListNode<Waiter>? FirstWaiterServedBy(ConnectionKey key)
    {
        for (var n = _waiters.First; n is not null; n = n.Next)
        {
            if (n.Value.Key == key) return n;
            if (LimitPerHost == 0 || (Find(n.Value.Key)?.Acquired ?? 0) < LimitPerHost) return null;
        }
        return null;
    }

    private Waiter Dequeue(LinkedListNode<Waiter> node)
    {
        _waiters.Remove(node);
        node.Value.Node = null;
        return node.Value;
    }

    // Slots freed: let queued requests proceed in FIFO order, each taking an idle connection or opening one.
    private void WakeWaiters()
    {
        while (true)
        {
            Waiter? w = null;
            Connection? lease = null;
            var open = false;
            List<Connection>? stale = null;
            lock (_gate)
            {
                if (_closed) return;
                for (var n = _waiters.First; n is not null; n = n.Next)
                {
                    if (!TryAcquire(n.Value.Key, Acquire.Queued, out var bucket, out lease, out open, ref stale)) continue;
                    w = Dequeue(n);
                    w.Bucket = bucket!;
                    break;
                }
                if (w is null) return;
            }
            w.Proceed(this, lease, open, stale);
        }
    }
}
