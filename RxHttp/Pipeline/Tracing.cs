namespace RxHttp;

/// <summary>Tracing as operators: per hop (spans, headers, chunks) and per request (start, end, exception).</summary>
public static class TracingOperator
{
    /// <summary>
    /// Starts the span and metrics of every hop that goes through <paramref name="hop"/> on the request's tracer (set
    /// by the session), and reports RequestStart for the request's first; the exchange below reports headers, chunks
    /// and connection events.
    /// </summary>
    public static RequestHandler TraceHops(this RequestHandler hop)
    {
        ArgumentNullException.ThrowIfNull(hop);
        return request => new TracedHop(hop, request);
    }
}
