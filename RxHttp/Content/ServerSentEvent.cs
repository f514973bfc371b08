namespace RxHttp;

/// <summary>
/// One event of a <c>text/event-stream</c> body (server-sent events, WHATWG HTML §9.2), as a browser's
/// <c>EventSource</c> dispatches it: from <see cref="ClientResponse.Events"/> or <see cref="ClientSession.EventSource(Url, EventSourceOptions?)"/>.
/// </summary>
/// <param name="EventType">The <c>event</c> field, or <c>"message"</c> when the event named none.</param>
/// <param name="Data">The <c>data</c> fields joined with line feeds.</param>
/// <param name="Id">
/// The last event ID as of this event (the browser's <c>lastEventId</c>): set by this event's <c>id</c> field or an
/// earlier one in the stream, empty when none set it. A reconnecting client sends it as <c>Last-Event-ID</c>.
/// </param>
/// <param name="Retry">The reconnection time the stream's latest <c>retry</c> field set, null when none did.</param>
public sealed record ServerSentEvent(string EventType, string Data, string Id = "", TimeSpan? Retry = null)
{
    /// <summary>The type of an event that named none.</summary>
    public const string DefaultType = "message";
}
