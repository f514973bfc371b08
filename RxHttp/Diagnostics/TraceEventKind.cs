namespace RxHttp;

/// <summary>aiohttp's sixteen TraceConfig signals, as the kinds of one event stream, and RxHttp's own <see cref="ResponseUnreleased"/>.</summary>
public enum TraceEventKind
{
    /// <summary>
    /// The request is about to be sent: once per request, before its first hop, as aiohttp's on_request_start. Each
    /// later hop is announced by <see cref="RequestRedirect"/> (and shows its own <see cref="RequestHeadersSent"/>).
    /// </summary>
    RequestStart,
    /// <summary>A piece of the request body was written.</summary>
    RequestChunkSent,
    /// <summary>A hop's request head was written (once per hop).</summary>
    RequestHeadersSent,
    /// <summary>A piece of the response body was read.</summary>
    ResponseChunkReceived,
    /// <summary>The final response arrived (once per request).</summary>
    RequestEnd,
    /// <summary>The request failed (once per request); a request disposed before its response reports an <see cref="OperationCanceledException"/>.</summary>
    RequestException,
    /// <summary>A redirect response is being followed.</summary>
    RequestRedirect,
    /// <summary>The request waits for a pool slot.</summary>
    ConnectionQueuedStart,
    /// <summary>The request got out of the pool queue.</summary>
    ConnectionQueuedEnd,
    /// <summary>A new connection is being opened.</summary>
    ConnectionCreateStart,
    /// <summary>The new connection is open.</summary>
    ConnectionCreateEnd,
    /// <summary>A pooled keep-alive connection is reused.</summary>
    ConnectionReuseconn,
    /// <summary>A host name is being resolved.</summary>
    DnsResolveHostStart,
    /// <summary>A host name was resolved.</summary>
    DnsResolveHostEnd,
    /// <summary>The DNS cache had the host.</summary>
    DnsCacheHit,
    /// <summary>The DNS cache did not have the host.</summary>
    DnsCacheMiss,
    /// <summary>
    /// Not one of aiohttp's signals: a response was garbage-collected with its body neither read nor released, so
    /// its connection was closed then (aiohttp warns "Unclosed response"). Reported with request id 0.
    /// </summary>
    ResponseUnreleased,
}
