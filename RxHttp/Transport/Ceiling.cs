namespace RxHttp;

/// <summary>
/// aiohttp's <c>ceil_timeout</c>: a deadline of at least <c>CeilThreshold</c> is rounded up to the next whole
/// second of the scheduler's clock, so the many timers started within one second fire together (fewer wake-ups);
/// a shorter one stays exact. aiohttp compares with <c>&gt;</c> in one place and <c>&gt;=</c> in another; RxHttp
/// uses <c>&gt;=</c> everywhere.
/// </summary>
public static class Ceiling
{
    /// <summary>The absolute deadline for <paramref name="delay"/> started at <paramref name="now"/>.</summary>
    /// <param name="now">The scheduler's current time.</param>
    /// <param name="delay">The timeout.</param>
    /// <param name="ceilThreshold">Delays at or above this are rounded up to a whole second; zero or less rounds every delay.</param>
    public static DateTimeOffset Deadline(DateTimeOffset now, TimeSpan delay, TimeSpan ceilThreshold)
    {
        var when = now + delay;
        if (delay < ceilThreshold) return when;
        var rem = when.UtcTicks % TimeSpan.TicksPerSecond;
        return rem == 0 ? when : when.AddTicks(TimeSpan.TicksPerSecond - rem);
    }
}
