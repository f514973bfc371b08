namespace RxHttp;

/// <summary>Connection-level moments a request's trace reports (aiohttp's connection and DNS signals).</summary>
internal enum ConnectorTraceKind
{
    QueuedStart,
    QueuedEnd,
    CreateStart,
    CreateEnd,
    Reuse,
    DnsResolveHostStart,
    DnsResolveHostEnd,
    DnsCacheHit,
    DnsCacheMiss,
}

/// <summary>
/// The hook the request pipeline hands down to the pool without the pool knowing about tracing: an async-local
/// callback set around <see cref="BaseConnector.Connect(ConnectionKey, ClientTimeout?)"/> and captured by the connect operation, so events
/// reach the request that caused them even when the opening happens later on another thread.
/// </summary>
internal static class ConnectorTrace
{
    internal static readonly AsyncLocal<Action<ConnectorTraceKind>?> Current = new();

    internal static void Emit(Action<ConnectorTraceKind>? trace, ConnectorTraceKind kind)
    {
        if (trace is null) return;
        // Tracing must never break a connection attempt.
        try { trace(kind); } catch { }
    }
}
