namespace RxHttp;

/// <summary>
/// Timeouts of one request (aiohttp's ClientTimeout). Null or zero disables one. Deadlines of at least
/// <see cref="CeilThreshold"/> are rounded up to the next whole second of the scheduler's clock.
/// </summary>
public sealed record ClientTimeout
{
    /// <summary>The session default: Total 300 s, SockConnect 30 s, CeilThreshold 5 s.</summary>
    public static ClientTimeout Default { get; } = new() { Total = TimeSpan.FromSeconds(300), SockConnect = TimeSpan.FromSeconds(30) };

    /// <summary>No timeouts at all.</summary>
    public static ClientTimeout None { get; } = new();

    /// <summary>The whole operation: connecting, every redirect hop and reading the body, until the connection is released.</summary>
    public TimeSpan? Total { get; init; }

    /// <summary>Waiting for a free pool slot plus opening the connection (DNS, connect, TLS, proxy).</summary>
    public TimeSpan? Connect { get; init; }

    /// <summary>
    /// The longest gap between two received chunks, re-armed on every read; and the longest one write of the request
    /// may wait for the server to take it (re-armed on every write).
    /// </summary>
    public TimeSpan? SockRead { get; init; }

    /// <summary>
    /// One connection attempt to one address together with the TLS handshake that follows it (the handshake ends by
    /// the attempt's deadline, as aiohttp's sock_connect; over a proxy's tunnel the handshake is timed on its own).
    /// </summary>
    public TimeSpan? SockConnect { get; init; }

    /// <summary>Timeouts at or above this are rounded up to a whole second (default 5 s).</summary>
    public TimeSpan CeilThreshold { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A timeout with only <see cref="Total"/> set, as a bare <see cref="TimeSpan"/> means per request.</summary>
    public static implicit operator ClientTimeout(TimeSpan total) => new() { Total = total };

    internal static TimeSpan? Active(TimeSpan? t) => t is { } v && v > TimeSpan.Zero ? v : null;
}
