namespace RxHttp;

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
