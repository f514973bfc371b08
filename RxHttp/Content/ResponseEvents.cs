namespace RxHttp;

public sealed partial class ClientResponse
{
    /// <summary>The largest line or event data <see cref="Events"/> accepts by default (1 MiB).</summary>
    public const int DefaultMaxEventSize = 1 << 20;

    /// <summary>
    /// The body as server-sent events (<c>text/event-stream</c>), each as soon as its blank line arrives: the WHATWG
    /// HTML standard's parsing, so lines may end with CRLF, LF or CR, text is UTF-8 whatever the charset says,
    /// comments (keep-alive lines starting with <c>:</c>) are skipped, and an event the body ends inside is dropped.
    /// The Content-Type is not checked (<see cref="ClientSession.EventSource(Url, EventSourceOptions?)"/> checks it, and reconnects with
    /// <c>Last-Event-ID</c>). Cold and single-use like <see cref="Content"/>: disposing mid-body closes the
    /// connection. A line or an event's data over <paramref name="maxEventSize"/> bytes fails with
    /// <see cref="ClientPayloadTooLargeError"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEventSize"/> is less than 1.</exception>
    public IObservable<ServerSentEvent> Events(int maxEventSize = DefaultMaxEventSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventSize, 1);
        return StreamingObservable.From(ct => IterEvents(maxEventSize, ct), OnVirtualClock);
    }

    /// <summary>The pull form of <see cref="Events"/>: the socket is read only as fast as events are asked for.</summary>
    public IAsyncEnumerable<ServerSentEvent> IterEvents(int maxEventSize = DefaultMaxEventSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventSize, 1);
        return IterEvents(new EventStreamParser(maxEventSize), cancellationToken);
    }

    /// <summary>Events through a parser the caller keeps, to read its last event ID and reconnection time at the end.</summary>
    internal IAsyncEnumerable<ServerSentEvent> IterEvents(EventStreamParser parser, CancellationToken cancellationToken) =>
        IterSplit(parser, limit: 0, cancellationToken);
}
