using System.Diagnostics;

namespace RxHttp;

/// <summary>The pool's counts, all under its gate, and what happens when a lease ends: back to idle, to a waiter, or closed.</summary>
public abstract partial class BaseConnector
{
    private void AddAcquired(HostPool b, int delta)
    {
        AssertGateHeld();
        _acquired += delta;
        b.Acquired += delta;
        Debug.Assert(_acquired >= 0 && b.Acquired >= 0 && b.Acquired <= _acquired, $"acquired counts out of range: pool {_acquired}, key {b.Acquired}");
    }

    private void AddOpening(HostPool b, int delta)
    {
        AssertGateHeld();
        _opening += delta;
        b.Opening += delta;
        Debug.Assert(_opening >= 0 && b.Opening >= 0 && b.Opening <= b.Acquired, $"opening counts out of range: pool {_opening}, key {b.Opening} of {b.Acquired}");
    }

    private void Unacquire(HostPool b)
    {
        AddAcquired(b, -1);
        DropIfEmpty(b);
    }

    internal void OnRelease(Connection c)
    {
        Waiter? handTo = null;
        var closeIt = false;
        var bucket = c.Bucket!;
        lock (_gate)
        {
            var wasLeased = _leased.Remove(c);
            Debug.Assert(wasLeased, "a connection released that the pool did not lease out (released twice?)");
            // Bytes buffered past the response's framing were never asked for: the next request would read them as
            // its answer, so such a connection is done (HttpClient drops it too), whether it would go idle or on.
            // "Keep-Alive: timeout=0": the server closes the connection as soon as it is idle.
            if (_closed || ForceClose || !c.KeepAlive || c.Closed || c.BufferedCount > 0 || c.ServerKeepAlive == TimeSpan.Zero
                || (c.ReuseUntil is { } until && until <= _scheduler.Now))
            {
                closeIt = true;
                Unacquire(bucket);
            }
            else
            {
                var next = FirstWaiterServedBy(c.Key);
                if (next is null && _keepsNoIdle)
                {
                    // Its idle time would be over at once, but the wheel only notices at its next turn: a request
                    // before that would reuse a connection the options say is expired (aiohttp closes it in _get).
                    closeIt = true;
                    Unacquire(bucket);
                }
                else if (next is null)
                {
                    AddAcquired(bucket, -1);
                    AddIdle(c);
                }
                else if (c.TryReacquire())
                {
                    handTo = Dequeue(next);
                    handTo.Bucket = bucket;
                    c.LeasedAlone = false;
                    _leased.Add(c);
                }
                else
                {
                    // Closed by its holder just after its Release (Close takes no lock): a dead connection must not
                    // reach the waiter, whose slot would then never come back. The slot is freed and the waiter,
                    // still first in line, is woken below to open one.
                    Unacquire(bucket);
                }
            }
            AssertInvariants();
        }
        if (closeIt)
        {
            c.CloseCore();
            WakeWaiters();
        }
        else if (handTo is not null)
        {
            // Checked as a lease from the idle list is (Settle, outside the gate): a server that closed right after
            // its answer, or sent more, must not get the waiter's request, which for a POST would not be retried.
            handTo.Proceed(this, c, mustOpen: false, stale: null);
        }
        else
        {
            WakeWaiters();
        }
        Publish();
    }

    private void AddIdle(Connection c)
    {
        AssertGateHeld();
        Debug.Assert(!c.Bucket!.Idle.Contains(c) && !_leased.Contains(c), "a connection idle twice, or idle while leased");
        c.Bucket!.Idle.Add(c);
        _idleCount++;
        ScheduleIdleExpiry(c);
    }

    // A leased connection was closed or detached: its slot is free.
    internal void OnLeaseEnded(Connection c)
    {
        lock (_gate)
        {
            if (!_leased.Remove(c)) return;
            Unacquire(c.Bucket!);
            AssertInvariants();
        }
        WakeWaiters();
        Publish();
    }

    // An idle connection was closed from outside (session close races): drop it from the idle list.
    internal void OnIdleClosed(Connection c)
    {
        lock (_gate)
        {
            if (c.Bucket is { } bucket && bucket.Idle.Remove(c))
            {
                _idleCount--;
                DropIfEmpty(bucket);
            }
            AssertInvariants();
        }
        Publish();
    }

    // Snapshots cost a dictionary copy; they are made only while someone listens (State) or asks (CurrentState).
    private void Publish()
    {
        if (!_state.HasObservers) return;
        lock (_gate)
        {
            if (_state.HasObservers) _state.OnNext(Snapshot());
        }
    }

    private PoolState Snapshot() =>
        new(_leased.Count, _opening, _idleCount, _waiters.Count, _hosts.Values.Where(b => b.Acquired > 0).ToDictionary(b => b.Key, b => b.Acquired));
}
