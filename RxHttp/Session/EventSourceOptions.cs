namespace RxHttp;

/// <summary>Settings of <see cref="ClientSession.EventSource(Url, EventSourceOptions?)"/>.</summary>
public sealed record EventSourceOptions
{
    /// <summary>
    /// How long to wait before reconnecting until the stream's <c>retry</c> field says otherwise (default 3 s, what
    /// browsers use). Timed on <see cref="RequestOptions.Scheduler"/>, else the session's scheduler.
    /// </summary>
    public TimeSpan Retry { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The last event ID to resume from: sent as <c>Last-Event-ID</c> on the first request too when not empty.</summary>
    public string LastEventId { get; init; } = "";

    /// <summary>
    /// The most reconnects in a row that bring no event before the source gives up: it then completes (the stream
    /// ended) or fails with the last error. Null (default): as a browser, it never gives up.
    /// </summary>
    public int? MaxReconnects { get; init; }

    /// <summary>
    /// The request's own settings (headers, auth, proxy, scheduler, …). Without a <see cref="RequestOptions.Timeout"/>
    /// the session's timeouts apply without their <c>Total</c>, which would cut a stream meant to stay open.
    /// </summary>
    public RequestOptions? Request { get; init; }

    /// <summary>The largest line or event data accepted (<see cref="ClientResponse.DefaultMaxEventSize"/>).</summary>
    public int MaxEventSize { get; init; } = ClientResponse.DefaultMaxEventSize;
}
