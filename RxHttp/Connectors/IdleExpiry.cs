using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// Keep-alive expiry: an idle connection is closed once it has been idle for the keep-alive timeout, or when its
/// PooledConnectionLifetime ends, whichever comes first.
/// </summary>
public abstract partial class BaseConnector
{
    // Under the gate, as the connection goes idle. The shorter of ours and the server's Keep-Alive timeout applies.
    private void ScheduleIdleExpiry(Connection c)
    {
        var keep = Options.KeepaliveTimeout;
        if (keep is null && c.ServerKeepAlive is null && c.ReuseUntil is null) return;
        var now = _scheduler.Now;
        // aiohttp rounds its keep-alive cleanup with timeout_ceil_threshold: long expiries land on whole seconds.
        var due = keep is null ? DateTimeOffset.MaxValue : Ceiling.Deadline(now, keep.Value, Options.TimeoutCeilThreshold);
        // The server's own timeout is when it closes: rounded up, the connection would stay up to a second past it,
        // and a request sent then races the server's close. So it is taken as it is (a threshold nothing reaches).
        if (c.ServerKeepAlive is { } server && Ceiling.Deadline(now, server, TimeSpan.MaxValue) is var serverDue && serverDue < due) due = serverDue;
        if (c.ReuseUntil < due) due = c.ReuseUntil.Value;
        // One expiry object per connection, rescheduled on every release instead of a new wheel entry each time.
        var expiry = c.IdleExpiry as IdleExpiryTimer ?? new IdleExpiryTimer(this, c);
        c.IdleExpiry = expiry;
        TimerWheel.For(_scheduler).Schedule(due, expiry);
        c.IdleTimer = expiry;
    }

    private sealed class IdleExpiryTimer(BaseConnector pool, Connection connection) : TimerWheel.Timer, IDisposable
    {
        protected internal override void Run() => pool.ExpireIdle(connection);

        public void Dispose() => Cancel();
    }

    private void ExpireIdle(Connection c)
    {
        lock (_gate)
        {
            var bucket = c.Bucket!;
            if (!bucket.Idle.Remove(c)) return;
            _idleCount--;
            DropIfEmpty(bucket);
            AssertInvariants();
        }
        c.CloseCore();
        Publish();
    }
}
