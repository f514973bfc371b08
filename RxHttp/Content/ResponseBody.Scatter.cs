using System.Runtime.CompilerServices;
using RxHttp.Http1;

namespace RxHttp;

// Fresh-array chunks (Content, IterChunked) read by several at a time: one socket read scatters into up to
// ScatterArrays fresh arrays, so a chunk of 64 KiB costs a quarter of a syscall and no copy, as BorrowedContent's
// 256 KiB reads do, while each chunk stays a small-object-heap array of its own.
internal sealed partial class ResponseBody
{
    internal const int ScatterArrays = 4;

    // The arrays of the last scatter read: slots _readyNext.._readyCount-1 hold chunks not handed out yet (the last
    // of them holds _readyLastLength bytes); a slot the read did not reach, or a partly filled last array (handed out
    // as an exact copy), keeps its array for the next read, so a short read wastes no allocation.
    private byte[]?[]? _scatter;
    private int _readyNext, _readyCount, _readyLastLength;
    private List<ArraySegment<byte>>? _segments;

    /// <summary>Scatter reads taken (tests).</summary>
    internal int ScatterReads { get; private set; }

    /// <summary>Arrays allocated for scatter reads (tests: a short read's untouched arrays serve the next read).</summary>
    internal int ScatterArraysAllocated { get; private set; }

    /// <summary>Whether arrays are kept for a next scatter read (tests: none once the body has ended).</summary>
    internal bool HoldsScatterArrays => _scatter is not null;

    private bool HasReady => _readyNext < _readyCount;

    private int ReadyBytes => HasReady ? (_readyCount - _readyNext - 1) * _scatter![_readyNext]!.Length + _readyLastLength : 0;

    // Only a plain socket body of known length (or until close) with nothing taken off the wire yet, read in
    // chunks big enough that several fit before its end; chunked and TLS bodies keep the single read.
    private bool CanScatter(int max) =>
        max >= DirectReadMin && _state == 0 && _kept is null && _drain is null && _connection.CanScatter
        && (_framing == BodyFraming.UntilClose || _framing == BodyFraming.ContentLength && _remaining >= 2L * max);

    private byte[] TakeReady()
    {
        var slot = _readyNext++;
        var chunk = _scatter![slot]!;
        byte[] result;
        if (_readyNext == _readyCount && _readyLastLength != chunk.Length)
        {
            result = GC.AllocateUninitializedArray<byte>(_readyLastLength);
            chunk.AsSpan(0, _readyLastLength).CopyTo(result);
        }
        else
        {
            _scatter[slot] = null; // the subscriber's now
            result = chunk;
        }
        // Once the body has ended, the arrays kept for a next read would only be held as long as the response is.
        if (!HasReady && _state != 0) DropScatterArrays();
        return result;
    }

    // The arrays kept for a next scatter read, let go once no scatter read can follow.
    private void DropScatterArrays()
    {
        _scatter = null;
        _segments = null;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<byte[]?> ReadScatterAsync(int max, CancellationToken ct)
    {
        // For a Content-Length body the arrays end where the body does, so no byte past it is read.
        var left = _framing == BodyFraming.ContentLength ? _remaining : long.MaxValue;
        var count = (int)Math.Min(ScatterArrays, (left + max - 1) / max);
        var arrays = _scatter ??= new byte[ScatterArrays][];
        var segments = _segments ??= new List<ArraySegment<byte>>(ScatterArrays);
        segments.Clear();
        for (var i = 0; i < count; i++)
        {
            if (arrays[i] is not { } a || a.Length != max)
            {
                arrays[i] = a = GC.AllocateUninitializedArray<byte>(max);
                ScatterArraysAllocated++;
            }
            // The last segment may stop short of its array (the body's end); that chunk is then handed out as an exact copy.
            segments.Add(new ArraySegment<byte>(a, 0, (int)Math.Min(max, left - (long)i * max)));
        }
        int n;
        try
        {
            ScatterReads++;
            n = await _connection.ReadScatterAsync(segments, _timer, ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (_framing == BodyFraming.ContentLength) throw MissingLength();
                Finish();
                return null;
            }
        }
        catch (Exception e)
        {
            throw ReadFailure(e);
        }
        finally
        {
            segments.Clear();
        }
        if (_framing == BodyFraming.ContentLength) _remaining -= n;
        Count(n);
        if (_framing == BodyFraming.ContentLength && _remaining == 0) Finish();
        // Arrays the read reached; the last of them may be partly filled.
        var filled = 0;
        var lastLength = 0;
        for (var rest = n; rest > 0; filled++)
        {
            lastLength = Math.Min(rest, max);
            rest -= lastLength;
        }
        _readyNext = 0;
        _readyCount = filled;
        _readyLastLength = lastLength;
        return TakeReady();
    }
}
