namespace RxHttp.Transport;

/// <summary>
/// A response read started before the request is written, as HttpClient does: on an idle keep-alive connection it
/// both checks the connection (an idle HTTP connection has nothing to say, so anything read at once, EOF or stray
/// bytes, means stale) and has the response's read already waiting. Held by value in its connection.
/// </summary>
internal struct ReadAhead
{
    private ValueTask<int> _read;
    private volatile bool _inFlight;

    /// <summary>Started and not yet taken by a reader.</summary>
    public bool Pending { get; private set; }

    /// <summary>Started and not yet over: the buffer it reads into may not go back to the array pool.</summary>
    public readonly bool InFlight => _inFlight;

    /// <summary>Starts the read into <paramref name="buffer"/>. False: the stream answered at once, so the connection is stale.</summary>
    public bool TryStart(Stream stream, Memory<byte> buffer)
    {
        ValueTask<int> read;
        try
        {
            read = stream.ReadAsync(buffer, CancellationToken.None);
        }
        catch
        {
            return false;
        }
        if (read.IsCompleted)
        {
            try { read.GetAwaiter().GetResult(); } catch { /* a reset: stale as well; observed so nothing goes unobserved */ }
            return false;
        }
        _read = read;
        _inFlight = true;
        Pending = true;
        return true;
    }

    /// <summary>Hands the started read to the reader who awaits it; <see cref="End"/> once that await is over.</summary>
    public ValueTask<int> Take()
    {
        Pending = false;
        return _read;
    }

    /// <summary>
    /// The started read's count when it is over and succeeded (then it is taken and ended), else null and the read
    /// stays where it is, for the reader who awaits it.
    /// </summary>
    public int? TakeIfDone()
    {
        if (!Pending || !_read.IsCompletedSuccessfully) return null;
        var count = _read.Result;
        Pending = false;
        End();
        return count;
    }

    public void End()
    {
        _read = default;
        _inFlight = false;
    }
}
