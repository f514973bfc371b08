namespace RxHttp.Http1;

/// <summary>
/// The response-head read loop, for the three places that read a head: the exchange, the websocket handshake and
/// the CONNECT tunnel. The caller holds the bytes and makes the one await that reads more (so the exchange's hot
/// path resumes no state machine of the reader's own), and names its own errors; the parse, what a close means and
/// whether any of the head had arrived are decided here, once:
/// <code>
/// var reader = new ResponseHeadReader(handler, limits);
/// while (!reader.TryParse(buffered))
///     if (!reader.Received(await ReadMoreAsync())) throw Closed(reader.Started);
/// Consume(reader.Consumed);
/// </code>
/// A head is parsed from the start of the buffer on every attempt (the parser is restartable and reports nothing
/// until the head is complete), so a head split across any number of reads gives the handler the same calls.
/// </summary>
internal struct ResponseHeadReader(IHttpResponseHeadHandler handler, HttpParserLimits limits)
{
    private int _buffered;

    /// <summary>The head's length in the buffer, once <see cref="TryParse"/> returned true.</summary>
    public int Consumed { get; private set; }

    /// <summary>
    /// Part of the head had arrived before the last read: a close then cuts a head short rather than refusing to
    /// answer (which, on a reused connection, may be a keep-alive race worth one retry).
    /// </summary>
    public readonly bool Started => _buffered > 0;

    /// <summary>
    /// Parses the head at the start of <paramref name="buffered"/>; true once it is complete (its length in
    /// <see cref="Consumed"/>), false when more must be read.
    /// </summary>
    /// <exception cref="HttpParseException">The head is malformed or exceeds the reader's limits.</exception>
    public bool TryParse(ReadOnlySpan<byte> buffered)
    {
        if (HttpResponseParser.TryParseHead(buffered, handler, limits, out var consumed))
        {
            Consumed = consumed;
            return true;
        }
        _buffered = buffered.Length;
        return false;
    }

    /// <summary>The count of a read made for more of the head: false when the peer closed (0) before the head ended.</summary>
    public readonly bool Received(int count) => count > 0;

    /// <summary>How large the buffer may grow while the head is incomplete.</summary>
    public readonly int MaxBuffer => limits.MaxHeadBuffer;
}
