using System.Reactive.Concurrency;
using System.Reactive.Subjects;

namespace RxHttp;

/// <summary>
/// The one place a request reports what happens to it: its events go to the session's trace subject (while someone
/// subscribes) and to its <see cref="RequestTelemetry"/> (spans and metrics, while something listens); the logging
/// of RxHttp.Extensions.DependencyInjection reads the trace stream. Cheap when nobody listens.
/// </summary>
internal sealed class RequestTracer(ISubject<TraceEvent> sink, Func<bool> listening, IScheduler scheduler, long id, RequestTelemetry? telemetry = null,
    TraceCompletion? completion = null)
{
    private const int Fresh = 0, Started = 1, Ended = 2;

    private ClientRequest? _hop;
    private int _state; // Fresh, Started once RequestStart was reported, Ended once RequestEnd or RequestException was

    public void Hop(ClientRequest request) => Volatile.Write(ref _hop, request);

    /// <summary>Whether the trace stream has observers: an event that costs something to build is built only then.</summary>
    public bool Listening => listening();

    /// <summary>
    /// A hop begins: its span and metrics start (the span's context is injected into a copy of the request, which
    /// is what is sent). The first hop reports RequestStart with the headers as they will go out; later ones are
    /// announced by RequestRedirect, as aiohttp sends on_request_start once per request, before its redirect loop
    /// (a consumer counting or pairing starts with ends would count a redirected request twice otherwise).
    /// </summary>
    public HopTelemetry? StartHop(ref ClientRequest request)
    {
        var hop = telemetry?.StartHop(ref request);
        Hop(request);
        // A request that already ended (disposed as its first hop was starting) does not start afterwards.
        if (Interlocked.CompareExchange(ref _state, Started, Fresh) == Fresh)
        {
            completion?.Started();
            Emit(TraceEventKind.RequestStart, request, headers: request.Headers);
        }
        return hop;
    }

    public void Emit(TraceEventKind kind, ClientRequest? request = null, ClientResponse? response = null, Exception? error = null, int? chunk = null, HeaderCollection? headers = null)
    {
        if (listening() && (request ?? Volatile.Read(ref _hop)) is { } hop)
        {
            Publish(sink, new TraceEvent(kind, id, scheduler.Now, hop.Method, hop.Url)
            {
                Response = response, Exception = error, ChunkLength = chunk, Headers = headers,
            });
        }
        // After its end is published: a closed session's stream completes behind the last request's end, not before it.
        if (kind is TraceEventKind.RequestEnd or TraceEventKind.RequestException && Interlocked.Exchange(ref _state, Ended) == Started)
            completion?.Ended();
    }

    /// <summary>
    /// Hands an event to the trace stream's observers. An observer that throws (a logger provider failing, say) must
    /// not reach the request: events are raised on socket and timer threads, where its exception ended the process,
    /// and between the steps that deliver a response and release a connection, which it left half done.
    /// </summary>
    internal static void Publish(ISubject<TraceEvent> sink, TraceEvent e)
    {
        try
        {
            sink.OnNext(e);
        }
        catch (Exception)
        {
            // Dropped, as ConnectorTrace drops a connection event's: tracing never breaks what it traces.
        }
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
