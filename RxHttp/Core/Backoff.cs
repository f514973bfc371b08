namespace RxHttp;

/// <summary>Exponential backoff with jitter: one formula for request retries and websocket reconnections.</summary>
internal static class Backoff
{
    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (1-based): <c>initial * factor^(retry-1)</c>, capped at
    /// <paramref name="max"/>, then shortened by up to <paramref name="jitter"/> of itself (<c>d - d * jitter * random()</c>)
    /// so that clients which failed together do not all come back at the same instant.
    /// </summary>
    public static TimeSpan Delay(TimeSpan initial, double factor, int retry, TimeSpan max, double jitter, Func<double> random)
    {
        var ticks = initial.Ticks * Math.Pow(factor, Math.Max(0, retry - 1));
        ticks = Math.Min(ticks, max.Ticks);
        if (jitter > 0) ticks -= ticks * jitter * Math.Clamp(random(), 0, 1);
        return TimeSpan.FromTicks((long)ticks);
    }
}
