namespace RxHttp;

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
