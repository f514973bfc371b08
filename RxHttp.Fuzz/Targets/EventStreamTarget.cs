namespace RxHttp.Fuzz.Targets;

/// <summary>
/// The server-sent event parser (<see cref="ClientResponse.Events"/>): the same events, last event ID and reconnection
/// time, or the same rejection, whether the body arrives whole, in two pieces or one byte at a time.
/// </summary>
public sealed class EventStreamTarget : FuzzTarget
{
    private const int MaxEventSize = 4096;

    public override string Name => "eventstream";
    public override Type[] Allowed => [typeof(ClientPayloadTooLargeError)];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        B("data: YHOO\ndata: +2\ndata: 10\n\n"),
        B("data\n\ndata\ndata\n\ndata:"),
        B(": hi\r\nevent: add\rdata: 1\r\n\nid: 7\nretry: 2500\n\n"),
        [0xEF, 0xBB, 0xBF, .. B("id: 1\ndata: a\r\n\r\n")],
        B("id: x\0y\ndata: d\n\nretry: 10a\ndata: e\n\n"),
        [.. B("data: "), 0xFF, 0xE2, 0x82, .. B("\n\n")],
    ];

    public override IReadOnlyList<byte[]> Tokens => [B("data:"), B("event:"), B("id:"), B("retry:"), B(":"), B("\r\n"), B("\r"), B("\n"), [0xEF, 0xBB, 0xBF], [0]];

    protected override string Execute(byte[] input)
    {
        var whole = Outcome(() => Parse([input]));
        foreach (var k in SplitPoints(input.Length).Take(12)) Same(whole, Outcome(() => Parse([input[..k], input[k..]])), k);
        if (input.Length <= 256) Same(whole, Outcome(() => Parse(input.Select(b => new[] { b }))), -1);
        return whole.Length > 60 ? whole[..60] : whole;
    }

    private static string Parse(IEnumerable<byte[]> pieces)
    {
        var parser = new EventStreamParser(MaxEventSize);
        var events = new List<ServerSentEvent>();
        foreach (var piece in pieces) parser.Push(piece, events);
        parser.Complete(events);
        foreach (var e in events)
            if (e.Data.Length > MaxEventSize || e.EventType.Length > MaxEventSize || e.Id.Contains('\0'))
                throw new InvariantViolation($"an event over the limit or with a NUL in its id: {e}");
        return string.Join("|", events.Select(e => $"{e.EventType}:{e.Data.Length}:{e.Id}:{e.Retry?.TotalMilliseconds}")) + $"#{parser.LastEventId}#{parser.Retry?.TotalMilliseconds}";
    }
}
