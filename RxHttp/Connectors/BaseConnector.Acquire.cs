using System.Net.Sockets;

namespace RxHttp;

/// <summary>
/// Taking a slot: the one place a lease is decided (<see cref="TryAcquire"/>, under the gate), the check of an idle
/// connection outside it (<see cref="Settle"/>), and the exchange's fast path (<see cref="TryLeaseIdle"/>).
/// </summary>
public abstract partial class BaseConnector
{
    /// <summary>Who asks for a slot, which decides what <see cref="TryAcquire"/> checks and may do.</summary>
    private enum Acquire
    {
        /// <summary>The exchange's fast path: an idle connection at once, or nothing (no opening, no queue).</summary>
        IdleOnly,
        /// <summary>A new subscriber: goes behind the queue when someone must go first; may open.</summary>
        Newcomer,
        /// <summary>A waiter being woken: its place in the queue is its right to go first; may open.</summary>
        Queued,
    }

    /// <summary>
    /// Under the gate: takes a slot for <paramref name="key"/> when the limits allow and nobody must go first, then
    /// leases its most recent idle connection (<paramref name="lease"/>) or counts an opening
    /// (<paramref name="mustOpen"/>). Idle connections found closed are dropped, and those holding stray bytes go to
    /// <paramref name="stale"/>, to be closed outside the gate (<see cref="Settle"/>). False: no slot (wait, or, for
    /// <see cref="Acquire.IdleOnly"/>, open through <see cref="Connect(ConnectionKey)"/>); <paramref name="bucket"/>
    /// is then the key's bucket if it has one.
    /// </summary>
    private bool TryAcquire(ConnectionKey key, Acquire who, out HostPool? bucket, out Connection? lease, out bool mustOpen, ref List<Connection>? stale)
    {
        AssertGateHeld();
        lease = null;
        mustOpen = false;
        bucket = Find(key);
        if (_closed) return false;
        if (who == Acquire.IdleOnly && (bucket is null || bucket.Idle.Count == 0)) return false;
        // FIFO: a newcomer queues behind a waiter for its own key, or behind one that is about to be woken.
        if (!HasCapacity(bucket) || (who != Acquire.Queued && MustQueueBehind(key))) return false;
        bucket ??= BucketFor(key);
        AddAcquired(bucket, 1);
        lease = TakeIdleOrOpen(bucket, mayOpen: who != Acquire.IdleOnly, out mustOpen, ref stale);
        if (lease is null && !mustOpen)
        {
            Unacquire(bucket);
            return false;
        }
        AssertInvariants();
        return true;
    }

    // Under the gate, with a slot held: the bucket's most recent idle connection, leased, else (mayOpen) an opening.
    private Connection? TakeIdleOrOpen(HostPool b, bool mayOpen, out bool mustOpen, ref List<Connection>? stale)
    {
        mustOpen = false;
        var list = b.Idle;
        while (list.Count > 0)
        {
            var c = list[^1];
            list.RemoveAt(list.Count - 1);
            _idleCount--;
            c.IdleTimer?.Dispose();
            c.IdleTimer = null;
            if (!c.TryReacquire()) continue; // closed while idle
            c.LeasedAlone = false;
            if (c.BufferedCount > 0) // the socket check is a syscall: made outside the lock (Settle)
            {
                (stale ??= new List<Connection>()).Add(c);
                continue;
            }
            _leased.Add(c);
            return c;
        }
        if (mayOpen)
        {
            AddOpening(b, 1);
            mustOpen = true;
        }
        return null;
    }

    /// <summary>
    /// Outside the gate, after a <see cref="TryAcquire"/> that took a slot: closes the idle connections it set aside,
    /// then checks the one it leased. <c>Socket.Poll</c> is a syscall, and made under the lock it was what 64
    /// concurrent requests contended on (0.015-0.03 contentions per request, 0.002 without it); with
    /// <paramref name="readAhead"/>, the response read is started instead (<see cref="Connection.TryStartReadAhead"/>).
    /// The slot is kept while a stale connection is swapped for the next idle one, or for an opening
    /// (<paramref name="mustOpen"/>). Null and not <paramref name="mustOpen"/>: the connector was closed.
    /// </summary>
    private Connection? Settle(HostPool bucket, Connection? lease, ref bool mustOpen, List<Connection>? stale, bool readAhead)
    {
        if (stale is not null) foreach (var s in stale) s.CloseCore();
        while (lease is not null && IsStale(lease, readAhead))
        {
            var dropped = lease;
            lease = null;
            List<Connection>? buffered = null;
            lock (_gate)
            {
                // Not in _leased any more: Close() already closed it and freed its slot.
                if (_leased.Remove(dropped))
                {
                    if (_closed) Unacquire(bucket);
                    else lease = TakeIdleOrOpen(bucket, mayOpen: true, out mustOpen, ref buffered);
                }
                AssertInvariants();
            }
            dropped.Discard();
            if (buffered is not null) foreach (var b in buffered) b.CloseCore();
        }
        return lease;
    }

    private long _readAheads;
    private long _polledResponses;

    /// <summary>
    /// <see cref="ConnectorOptions.ResponsePollWindow"/> in Stopwatch ticks (see Connection.PollForResponse); tests
    /// widen it past the option's one-second bound, so that a stalled test machine still takes the path they test.
    /// </summary>
    internal long ResponsePollTicks { get; set; }

    /// <summary>True when another request of this pool is out (leased or opening) besides the caller's: read without the lock, as a hint.</summary>
    internal bool OthersOut => Volatile.Read(ref _acquired) > 1;

    /// <summary>True when any request of this pool is out (leased or opening): read without the lock, as a hint.</summary>
    internal bool AnyOut => Volatile.Read(ref _acquired) > 0;

    /// <summary>How many responses were picked up by polling (tests).</summary>
    internal long PolledResponses => Interlocked.Read(ref _polledResponses);

    internal void CountPolledResponse() => Interlocked.Increment(ref _polledResponses);

    /// <summary>How many leases checked their connection by starting the response read rather than by a Poll (tests).</summary>
    internal long ReadAheads => Interlocked.Read(ref _readAheads);

    // An idle HTTP connection has nothing to say; readable means the server sent EOF (closed it) or garbage.
    // With readAhead (the exchange's own leases while other requests are in flight) it finds out by starting the
    // response read, which it needs anyway, instead of a Poll syscall. Other leases are polled: Connect() subscribers
    // may detach the stream, and a lone request is faster with the Poll (see TryLeaseIdle).
    private bool IsStale(Connection c, bool readAhead)
    {
        if (readAhead && c.CanReadAhead)
        {
            Interlocked.Increment(ref _readAheads);
            return !c.TryStartReadAhead();
        }
        try
        {
            // A stray byte under a raised low-water mark counts too (HasInput asks FIONREAD as well as Poll).
            return c.Socket is { } s && Transport.LowWaterStream.HasInput(s, c.LowWater);
        }
        catch
        {
            return true;
        }
    }

    /// <summary>
    /// The lease <see cref="Connect(ConnectionKey, ClientTimeout?)"/> would hand out at once when an idle connection
    /// for <paramref name="key"/> is free and nobody waits ahead; null when it would have to wait or open one. A
    /// keep-alive client takes this path on nearly every request, and it needs no observable, operation or observer.
    /// </summary>
    internal Connection? TryLeaseIdle(ConnectionKey key)
    {
        Connection? lease;
        List<Connection>? stale = null;
        bool busy, open;
        HostPool? bucket;
        lock (_gate)
        {
            busy = _leased.Count > 0;
            if (!TryAcquire(key, Acquire.IdleOnly, out bucket, out lease, out open, ref stale) && stale is null) return null;
        }
        // Measured on loopback: alone, a request is latency-bound and a Poll is free, while a read left pending
        // across the send makes the round trip ~10% slower (it comes from the socket engine's thread-pool
        // completions: inline, the read-ahead wins). Beside others, CPU is what limits, and the read-ahead saves
        // that syscall without slowing anything.
        lease = Settle(bucket!, lease, ref open, stale, readAhead: busy);
        if (lease is not null) lease.LeasedAlone = !busy;
        if (open)
        {
            // Every idle one was stale: give the slot back and let the caller take the opening path.
            lock (_gate)
            {
                AddOpening(bucket!, -1);
                Unacquire(bucket!);
                AssertInvariants();
            }
            WakeWaiters();
        }
        if (lease is not null && lease.IsReused) ConnectorTrace.Emit(ConnectorTrace.Current.Value, ConnectorTraceKind.Reuse);
        Publish();
        return lease;
    }
}
