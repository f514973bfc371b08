using System.Reactive.Concurrency;
using System.Reactive.Subjects;

namespace RxHttp;

/// <summary>aiohttp's sixteen TraceConfig signals, as the kinds of one event stream, and RxHttp's own <see cref="ResponseUnreleased"/>.</summary>
public enum TraceEventKind
{
    /// <summary>A hop is about to be sent (once per redirect hop, as aiohttp).</summary>
    RequestStart,
    /// <summary>A piece of the request body was written.</summary>
    RequestChunkSent,
    /// <summary>The request head was written.</summary>
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

/// <summary>One traced moment of one request.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="RequestId">Tells concurrent requests apart: the same for every event of one subscription.</param>
/// <param name="Time">The session scheduler's clock when it happened.</param>
/// <param name="Method">The hop's method.</param>
/// <param name="Url">The hop's URL.</param>
public sealed record TraceEvent(TraceEventKind Kind, long RequestId, DateTimeOffset Time, string Method, Url Url)
{
    /// <summary>The response for RequestEnd and RequestRedirect.</summary>
    public ClientResponse? Response { get; init; }
    /// <summary>The error for RequestException.</summary>
    public Exception? Exception { get; init; }
    /// <summary>The byte count of a chunk event.</summary>
    public int? ChunkLength { get; init; }
    /// <summary>The request headers as sent (RequestHeadersSent) or as built (RequestStart).</summary>
    public HeaderCollection? Headers { get; init; }
}

/// <summary>
/// The one place a request reports what happens to it: its events go to the session's trace subject (while someone
/// subscribes) and to its <see cref="RequestTelemetry"/> (spans and metrics, while something listens); the logging
/// of RxHttp.Extensions.DependencyInjection reads the trace stream. Cheap when nobody listens.
/// </summary>
internal sealed class RequestTracer(ISubject<TraceEvent> sink, Func<bool> listening, IScheduler scheduler, long id, RequestTelemetry? telemetry = null)
{
    public const string Key = "rxhttp.trace";

    private ClientRequest? _hop;

    public static RequestTracer? Of(ClientRequest request) =>
        request.TryGetProperty(Key, out var t) ? t as RequestTracer : null;

    public void Hop(ClientRequest request) => Volatile.Write(ref _hop, request);

    /// <summary>
    /// A hop begins: its span and metrics start (the span's context is injected into a copy of the request, which
    /// is what is sent), then RequestStart is reported with the headers as they will go out.
    /// </summary>
    public HopTelemetry? StartHop(ref ClientRequest request)
    {
        var hop = telemetry?.StartHop(ref request);
        Hop(request);
        Emit(TraceEventKind.RequestStart, request, headers: request.Headers);
        return hop;
    }

    public void Emit(TraceEventKind kind, ClientRequest? request = null, ClientResponse? response = null, Exception? error = null, int? chunk = null, HeaderCollection? headers = null)
    {
        if (!listening()) return;
        var hop = request ?? Volatile.Read(ref _hop);
        if (hop is null) return;
        sink.OnNext(new TraceEvent(kind, id, scheduler.Now, hop.Method, hop.Url)
        {
            Response = response, Exception = error, ChunkLength = chunk, Headers = headers,
        });
    }

    public void OnConnector(ConnectorTraceKind kind)
    {
        telemetry?.OnConnector(kind, Volatile.Read(ref _hop));
        Emit(ToTraceKind(kind));
    }

    private static TraceEventKind ToTraceKind(ConnectorTraceKind kind) => kind switch
    {
        ConnectorTraceKind.QueuedStart => TraceEventKind.ConnectionQueuedStart,
        ConnectorTraceKind.QueuedEnd => TraceEventKind.ConnectionQueuedEnd,
        ConnectorTraceKind.CreateStart => TraceEventKind.ConnectionCreateStart,
        ConnectorTraceKind.CreateEnd => TraceEventKind.ConnectionCreateEnd,
        ConnectorTraceKind.Reuse => TraceEventKind.ConnectionReuseconn,
        ConnectorTraceKind.DnsResolveHostStart => TraceEventKind.DnsResolveHostStart,
        ConnectorTraceKind.DnsResolveHostEnd => TraceEventKind.DnsResolveHostEnd,
        ConnectorTraceKind.DnsCacheHit => TraceEventKind.DnsCacheHit,
        _ => TraceEventKind.DnsCacheMiss,
    };
}

/// <summary>Tracing as operators: per hop (start, headers, chunks) and per request (end, exception).</summary>
public static class TracingOperator
{
    /// <summary>
    /// Reports RequestStart for every hop that goes through <paramref name="hop"/> on the request's tracer (set by
    /// the session); the exchange below reports headers, chunks and connection events.
    /// </summary>
    public static RequestHandler TraceHops(this RequestHandler hop)
    {
        ArgumentNullException.ThrowIfNull(hop);
        return request => new TracedHop(hop, request);
    }
}
