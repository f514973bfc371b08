using System.Diagnostics;

namespace RxHttp;

/// <summary>
/// One request's spans and metrics, fed by its <see cref="RequestTracer"/> from the same points as the trace
/// stream: a client span and an <c>http.client.active_requests</c>/<c>http.client.request.duration</c> pair per hop
/// (each redirect hop is its own, as each of HttpClient's SendAsync calls inside its redirect handler is), and the
/// pool's queueing from the connector's events. Made only while something listens (<see cref="Telemetry.RequestsObserved"/>).
/// Every call that reaches a listener goes through <see cref="Listeners"/>, which drops a listener's exception.
/// </summary>
internal sealed class RequestTelemetry(Activity? parent)
{
    private static readonly string Cancelled = typeof(OperationCanceledException).FullName!;

    // The span that was current when the request was subscribed: the parent of every hop's span, so hops are
    // siblings whichever thread a redirect is followed on.
    private readonly Activity? _parent = parent;
    private long _waitStarted; // Stopwatch timestamp: this hop has no connection yet (queued, or one is being opened)
    private int _waitingCounted; // 1: counted in rxhttp.pool.waiting_requests (a disposal may race the pool's grant)

    /// <summary>Starts a hop: its span (current while the hop is subscribed), trace context headers, active_requests.</summary>
    public HopTelemetry StartHop(ref ClientRequest request)
    {
        var span = StartSpan(request);
        if (span is not null) request = Inject(span, request);
        var active = Telemetry.ActiveRequests.Enabled;
        if (active) Listeners.Add(Telemetry.ActiveRequests, 1, BaseTags(request));
        return new HopTelemetry(this, request, span, active);
    }

    private Activity? StartSpan(ClientRequest request)
    {
        Activity? span = null;
        if (Telemetry.Source.HasListeners())
        {
            // No parent: a root span, not a child of whatever the thread that follows a redirect has as current.
            if (_parent is null && Activity.Current is not null) Activity.Current = null;
            try
            {
                // Created, then started: a listener that throws from ActivityStarted does so once the span is
                // started and current, and the span must still be ended with the hop.
                span = Telemetry.Source.CreateActivity(RxHttpInstrumentation.RequestActivityName, ActivityKind.Client, _parent?.Context ?? default);
            }
            catch (Exception)
            {
                // A sampler's: no span from the source.
            }
            Listeners.Start(span);
        }
        // Not sampled, or nobody listens but a span is active: HttpClient still makes one, to propagate its context.
        if (span is null && _parent is not null)
        {
            span = new Activity(RxHttpInstrumentation.RequestActivityName);
            span.SetParentId(_parent.TraceId, _parent.SpanId, _parent.ActivityTraceFlags);
            span.TraceStateString = _parent.TraceStateString;
            Listeners.Start(span);
        }
        if (span is null) return null;
        span.DisplayName = HttpSemantics.KnownMethod(request.Method) ?? "HTTP";
        if (span.IsAllDataRequested)
        {
            span.SetTag("http.request.method", HttpSemantics.MethodTag(request.Method));
            if (HttpSemantics.KnownMethod(request.Method) is null) span.SetTag("http.request.method_original", request.Method);
            span.SetTag("server.address", request.Url.Host);
            span.SetTag("server.port", HttpSemantics.Boxed(request.Url.Port));
            span.SetTag("url.full", HttpSemantics.RedactedUrl(request.Url));
        }
        return span;
    }

    // W3C trace context (and whatever else the process-wide propagator writes), unless the caller set those headers.
    // The request's headers may be shared (the session's defaults), so the hop gets a copy when anything is added.
    private static ClientRequest Inject(Activity span, ClientRequest request)
    {
        var carrier = new Carrier(request.Headers);
        try
        {
            DistributedContextPropagator.Current.Inject(span, carrier, static (c, name, value) =>
            {
                if (c is Carrier carrier && name is not null && value is not null && !carrier.Original.Contains(name))
                    (carrier.Copy ??= carrier.Original.Clone(extra: 2)).Add(name, value);
            });
        }
        catch (Exception)
        {
            // A propagator of the application's that failed: the hop goes without trace context.
            return request;
        }
        return carrier.Copy is { } copy ? request.WithHopHeaders(copy) : request;
    }

    private sealed class Carrier(HeaderCollection original)
    {
        public HeaderCollection Original { get; } = original;
        public HeaderCollection? Copy;
    }

    /// <summary>The connector's events of the current hop: time waiting for a connection, and the pool's own figures.</summary>
    public void OnConnector(ConnectorTraceKind kind, ClientRequest? hop)
    {
        switch (kind)
        {
            case ConnectorTraceKind.QueuedStart:
                if (_waitStarted == 0) _waitStarted = Stopwatch.GetTimestamp();
                if (hop is not null && Telemetry.PoolWaiting.Enabled)
                {
                    Volatile.Write(ref _waitingCounted, 1);
                    Listeners.Add(Telemetry.PoolWaiting, 1, ServerTags(hop));
                }
                break;
            case ConnectorTraceKind.QueuedEnd:
                LeaveQueue(hop);
                break;
            case ConnectorTraceKind.CreateStart:
                if (_waitStarted == 0) _waitStarted = Stopwatch.GetTimestamp();
                break;
            case ConnectorTraceKind.CreateEnd:
                RecordWait(hop);
                break;
            case ConnectorTraceKind.Reuse:
                RecordWait(hop);
                if (hop is not null && Telemetry.PoolReused.Enabled) Listeners.Add(Telemetry.PoolReused, 1, ServerTags(hop));
                break;
        }
    }

    private void LeaveQueue(ClientRequest? hop)
    {
        if (Interlocked.Exchange(ref _waitingCounted, 0) == 0) return;
        if (hop is not null) Listeners.Add(Telemetry.PoolWaiting, -1, ServerTags(hop));
    }

    // HttpClient records time_in_queue for a request that had no idle connection to take: from then until it has one,
    // or until the wait fails or is cancelled (its pool records it in a finally). Exchanged: a hop's end may race
    // the connector's event.
    private void RecordWait(ClientRequest? hop)
    {
        var started = Interlocked.Exchange(ref _waitStarted, 0);
        if (started == 0 || hop is null || !Telemetry.TimeInQueue.Enabled) return;
        var tags = BaseTags(hop);
        tags.Add("network.protocol.version", "1.1");
        Listeners.Record(Telemetry.TimeInQueue, Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }

    internal void EndHop(HopTelemetry hop, ClientResponse? response, Exception? error, bool cancelled)
    {
        LeaveQueue(hop.Request);
        RecordWait(hop.Request);
        var request = hop.Request;
        int? status = response?.Status;
        // A hop cut short (disposal, Total timeout) is an error too, as .NET 10's HttpClient reports a cancelled
        // SendAsync on its metric and its span alike.
        var errorType = HttpSemantics.ErrorType(status, error) ?? (cancelled ? Cancelled : null);
        var version = response is null ? null : HttpSemantics.ProtocolVersion(response.Version);
        // The duration is recorded before the span stops, as HttpClient does (so exemplars can link to it).
        if (Telemetry.RequestDuration.Enabled)
        {
            var tags = BaseTags(request);
            if (response is not null)
            {
                tags.Add("http.response.status_code", HttpSemantics.Boxed(status!.Value));
                tags.Add("network.protocol.version", version);
            }
            if (errorType is not null) tags.Add("error.type", errorType);
            Listeners.Record(Telemetry.RequestDuration, Stopwatch.GetElapsedTime(hop.Started).TotalSeconds, tags);
        }
        if (hop.CountedActive) Listeners.Add(Telemetry.ActiveRequests, -1, BaseTags(request));
        if (hop.Span is not { } span) return;
        if (span.IsAllDataRequested)
        {
            if (response is not null)
            {
                span.SetTag("http.response.status_code", HttpSemantics.Boxed(status!.Value));
                span.SetTag("network.protocol.version", version);
            }
            if (errorType is not null)
            {
                span.SetTag("error.type", errorType);
                span.SetStatus(ActivityStatusCode.Error);
            }
        }
        Listeners.Stop(span);
    }

    private static TagList BaseTags(ClientRequest request) => new()
    {
        { "http.request.method", HttpSemantics.MethodTag(request.Method) },
        { "server.address", request.Url.Host },
        { "server.port", HttpSemantics.Boxed(request.Url.Port) },
        { "url.scheme", request.Url.Scheme },
    };

    private static TagList ServerTags(ClientRequest request) => new()
    {
        { "server.address", request.Url.Host },
        { "server.port", HttpSemantics.Boxed(request.Url.Port) },
        { "url.scheme", request.Url.Scheme },
    };
}

/// <summary>One hop's telemetry: ended once, by its response head, its failure or its disposal.</summary>
internal sealed class HopTelemetry(RequestTelemetry owner, ClientRequest request, Activity? span, bool countedActive)
{
    private int _ended;

    public ClientRequest Request { get; } = request;
    public Activity? Span { get; } = span;
    public bool CountedActive { get; } = countedActive;
    public long Started { get; } = Stopwatch.GetTimestamp();

    public void End(ClientResponse? response, Exception? error, bool cancelled = false)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        owner.EndHop(this, response, error, cancelled);
    }
}
