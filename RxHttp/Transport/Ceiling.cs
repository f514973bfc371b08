namespace RxHttp;

/// <summary>
/// aiohttp's <c>ceil_timeout</c>: a deadline of at least <c>CeilThreshold</c> is rounded up to the next whole
/// second of the scheduler's clock, so the many timers started within one second fire together (fewer wake-ups);
/// a shorter one stays exact. aiohttp compares with <c>&gt;</c> in one place and <c>&gt;=</c> in another; RxHttp
/// uses <c>&gt;=</c> everywhere. A deadline past <see cref="DateTimeOffset.MaxValue"/> (a timeout of
/// <see cref="TimeSpan.MaxValue"/>, .NET's usual "never") is <see cref="DateTimeOffset.MaxValue"/>.
/// </summary>
public static class Ceiling
{
    /// <summary>The absolute deadline for <paramref name="delay"/> started at <paramref name="now"/>.</summary>
    /// <param name="now">The scheduler's current time.</param>
    /// <param name="delay">The timeout.</param>
    /// <param name="ceilThreshold">Delays at or above this are rounded up to a whole second; zero or less rounds every delay.</param>
    public static DateTimeOffset Deadline(DateTimeOffset now, TimeSpan delay, TimeSpan ceilThreshold)
    {
        // Saturated rather than added: DateTimeOffset arithmetic past year 9999 throws, and that failed every request
        // of a session whose timeout was TimeSpan.MaxValue with an ArgumentOutOfRangeException.
        var max = DateTimeOffset.MaxValue.UtcTicks;
        if (delay.Ticks > max - now.UtcTicks) return DateTimeOffset.MaxValue;
        var when = now + delay;
        if (delay < ceilThreshold) return when;
        var rem = when.UtcTicks % TimeSpan.TicksPerSecond;
        if (rem == 0) return when;
        var up = TimeSpan.TicksPerSecond - rem;
        return up > max - when.UtcTicks ? DateTimeOffset.MaxValue : when.AddTicks(up);
    }
}
