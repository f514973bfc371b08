namespace RxHttp;

/// <summary>Settings of <see cref="ClientSession.EventSource(Url, EventSourceOptions?)"/>.</summary>
public sealed record EventSourceOptions
{
    /// <summary>
    /// How long to wait before reconnecting until the stream's <c>retry</c> field says otherwise (default 3 s, what
    /// browsers use). Timed on <see cref="RequestOptions.Scheduler"/>, else the session's scheduler.
    /// </summary>
    public TimeSpan Retry { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The last event ID to resume from: sent as <c>Last-Event-ID</c> on the first request too when not empty. CR, LF
    /// and NUL are refused (no stream's ID has them).
    /// </summary>
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

    /// <summary>
    /// Told where the source stands, as a browser's <c>readyState</c> with the wait apart: each attempt
    /// <see cref="EventSourceState.Connecting"/>, <see cref="EventSourceState.Open"/> once the stream's head is
    /// accepted, <see cref="EventSourceState.Waiting"/> until the next attempt, and <see cref="EventSourceState.Closed"/>
    /// then completed when the source ends, fails or is disposed. For a UI's "reconnecting…"; called on the
    /// threads the source runs on, so a UI observes it on its own scheduler.
    /// </summary>
    public IObserver<EventSourceState>? States { get; init; }

    /// <summary>The largest line or event data accepted (<see cref="ClientResponse.DefaultMaxEventSize"/>).</summary>
    public int MaxEventSize { get; init; } = ClientResponse.DefaultMaxEventSize;
}

/// <summary>Where an <see cref="ClientSession.EventSource(Url, EventSourceOptions?)"/> stands (<see cref="EventSourceOptions.States"/>).</summary>
public enum EventSourceState
{
    /// <summary>A request for the stream is out.</summary>
    Connecting,
    /// <summary>The stream is open: events may come.</summary>
    Open,
    /// <summary>The stream ended or failed; the next attempt waits for the reconnection time.</summary>
    Waiting,
    /// <summary>The source ended, failed or was disposed: no more attempts.</summary>
    Closed,
}
