using System.Diagnostics;

namespace RxHttp;

/// <summary>
/// The pool's bookkeeping invariants, checked under the gate at the end of every change in a Debug build
/// (<c>./test.sh -c Debug</c>); a Release build compiles the calls away.
/// </summary>
public abstract partial class BaseConnector
{
    [Conditional("DEBUG")]
    private void AssertGateHeld() => Debug.Assert(Monitor.IsEntered(_gate), "pool bookkeeping outside the gate");

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        AssertGateHeld();
        Debug.Assert(_acquired == _leased.Count + _opening, $"acquired {_acquired} != leased {_leased.Count} + opening {_opening}");
        var leasedPerBucket = new Dictionary<HostPool, int>(ReferenceEqualityComparer.Instance);
        foreach (var c in _leased)
        {
            Debug.Assert(c.Bucket is { } b && _hosts.TryGetValue(c.Key, out var current) && ReferenceEquals(current, b), "a leased connection whose bucket left the pool");
            leasedPerBucket[c.Bucket!] = leasedPerBucket.GetValueOrDefault(c.Bucket!) + 1;
        }
        int acquired = 0, opening = 0, idle = 0;
        var seen = new HashSet<Connection>(ReferenceEqualityComparer.Instance);
        foreach (var (key, b) in _hosts)
        {
            Debug.Assert(ReferenceEquals(key, b.Key) || key == b.Key, "a bucket filed under another key");
            Debug.Assert(!b.IsEmpty, $"an empty bucket kept for {key.Host}:{key.Port}");
            Debug.Assert(b.Acquired == leasedPerBucket.GetValueOrDefault(b) + b.Opening,
                $"{key.Host}:{key.Port}: acquired {b.Acquired} != leased {leasedPerBucket.GetValueOrDefault(b)} + opening {b.Opening}");
            acquired += b.Acquired;
            opening += b.Opening;
            idle += b.Idle.Count;
            foreach (var c in b.Idle)
            {
                Debug.Assert(seen.Add(c), "a connection idle twice");
                Debug.Assert(ReferenceEquals(c.Bucket, b), "an idle connection in another key's list");
                Debug.Assert(!_leased.Contains(c), "a connection idle and leased at once");
                // Closed while idle is possible until OnIdleClosed takes the gate; leased (or detached) is not.
                Debug.Assert(c.IsReleased || c.Closed, "an idle connection that is not released");
            }
        }
        Debug.Assert(acquired == _acquired, $"buckets' acquired {acquired} != pool's {_acquired}");
        Debug.Assert(opening == _opening, $"buckets' opening {opening} != pool's {_opening}");
        Debug.Assert(idle == _idleCount, $"idle lists hold {idle}, idle count says {_idleCount}");
        foreach (var w in _waiters) Debug.Assert(w.Node is not null, "a waiter in the queue without its node");
        Debug.Assert(!_closed || (_idleCount == 0 && _waiters.Count == 0), "a closed pool with idle connections or waiters");
    }
}
