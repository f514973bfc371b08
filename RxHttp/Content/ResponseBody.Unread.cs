using RxHttp.Http1;

namespace RxHttp;

// A body taken off the connection before anyone reads it: a small one that came with its head, or an unread one
// kept in memory (bounded) once the subscription that delivered its response ended, so the connection goes back to
// the pool either way; a reader that comes later takes over from what was kept.
internal sealed partial class ResponseBody
{
    /// <summary>
    /// The whole body as one array when all of it was kept and none of it was read yet (a small body that came with
    /// its head): handed over as is, so Read() costs no second copy. Null otherwise.
    /// </summary>
    public byte[]? TakeWhole()
    {
        if (_kept is not { } kept || _keptStart != 0 || _keptEnd != kept.Length || _drain is not null || Volatile.Read(ref _state) != 1) return null;
        _keptStart = _keptEnd;
        return kept;
    }

    /// <summary>A reader starts: it takes over from the drain of an unread body if one runs.</summary>
    public void Claim()
    {
        if (Interlocked.CompareExchange(ref _claim, 1, 0) != 2) return;
        // The drain publishes itself once its synchronous start returned: a short wait on a rare path.
        var spin = new SpinWait();
        Drain? drain;
        while ((drain = Volatile.Read(ref _drain)) is null) spin.SpinOnce();
        lock (drain) drain.Claimed = true;
    }

    /// <summary>
    /// Nobody took the body by the end of the subscription that delivered the response: read it into memory, up to
    /// <see cref="UnreadKeepMax"/> bytes (and no further than <paramref name="maxBody"/>, when set), so the
    /// connection goes back to the pool and a later read still works. A longer body is kept only that far and the rest
    /// waits on the connection for a reader (or the response's guard). A reader that claims the body meanwhile takes
    /// over from what was kept so far, without losing a byte.
    /// </summary>
    public void KeepUnread(long maxBody)
    {
        if (IsDone || Interlocked.CompareExchange(ref _claim, 2, 0) != 0) return;
        var drain = new Drain();
        drain.Task = DrainAsync(drain, maxBody > 0 && maxBody < UnreadKeepMax ? (int)maxBody : UnreadKeepMax);
        Volatile.Write(ref _drain, drain);
    }

    /// <summary>True while an unread body is being kept (its connection is not yet returned or closed).</summary>
    public bool IsDraining => _drain is { Task.IsCompleted: false };

    // The drain and a reader that claims the body meanwhile share the kept bytes under this object's lock: the drain's
    // read in flight fills the array past _keptEnd while the reader takes what is before it, so a late reader gets the
    // bytes already kept at once instead of waiting for more to arrive.
    private sealed class Drain
    {
        public Task? Task;
        public bool Claimed; // under the lock
        public Exception? Error;
    }

    // Never faults: a failure is kept for the reader that takes over, so nothing goes unobserved.
    private async Task DrainAsync(Drain drain, int max)
    {
        try
        {
            // Longer than what is kept: left on the connection whole (nothing to copy for a large download).
            if (_framing == BodyFraming.ContentLength && _remaining > max) return;
            var size = _framing == BodyFraming.ContentLength ? (int)_remaining : Math.Min(max, Math.Max(_connection.BufferedCount, 4096));
            lock (drain)
            {
                _kept = GC.AllocateUninitializedArray<byte>(Math.Max(size, 1));
                _keptStart = _keptEnd = 0;
            }
            while (true)
            {
                Memory<byte> free;
                lock (drain)
                {
                    if (drain.Claimed || Volatile.Read(ref _state) != 0) return;
                    if (_keptEnd == _kept!.Length)
                    {
                        if (_kept.Length >= max) return; // the bound: the rest waits on the connection
                        // Grown in place: a claim stops the drain before a reader takes any byte it might move.
                        Array.Resize(ref _kept, Math.Min(max, _kept.Length * 2));
                    }
                    free = _kept.AsMemory(_keptEnd);
                }
                var n = await ReadWireAsync(free, CancellationToken.None).ConfigureAwait(false);
                lock (drain)
                {
                    if (n == 0) return;
                    _keptEnd += n;
                }
            }
        }
        catch (Exception e)
        {
            lock (drain) drain.Error = e;
        }
    }

    // What was taken off the wire first (after the drain, if one ran, stopped), then the rest of the body.
    private async ValueTask<int> ReadKeptAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_drain is { } drain)
        {
            lock (drain)
            {
                drain.Claimed = true;
                if (drain.Error is null && _kept is { } early && _keptStart < _keptEnd)
                {
                    // What the drain kept so far, while its read in flight fills the array further on.
                    var k = Math.Min(destination.Length, _keptEnd - _keptStart);
                    early.AsSpan(_keptStart, k).CopyTo(destination.Span);
                    _keptStart += k;
                    return k;
                }
            }
            await drain.Task!.WaitAsync(ct).ConfigureAwait(false);
            if (drain.Error is { } error)
            {
                // Kept (the drain stays): every later read fails with it too.
                Fail();
                throw error;
            }
            _drain = null;
        }
        if (_kept is { } kept)
        {
            if (_keptStart < _keptEnd)
            {
                var n = Math.Min(destination.Length, _keptEnd - _keptStart);
                kept.AsSpan(_keptStart, n).CopyTo(destination.Span);
                _keptStart += n;
                return n;
            }
            _kept = null;
        }
        return await ReadWireAsync(destination, ct).ConfigureAwait(false);
    }
}
