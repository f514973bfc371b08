using RxHttp.WebSockets;

namespace RxHttp.Fuzz.Targets;

/// <summary>
/// The websocket frame reader, plain or with permessage-deflate: the same messages and the same failure whether the
/// server's bytes arrive whole or in two pieces.
/// </summary>
public sealed class WebSocketTarget(bool deflate) : FuzzTarget
{
    private const int MaxMsgSize = 64 * 1024;

    public override string Name => deflate ? "websocket-deflate" : "websocket";
    public override Type[] Allowed => [typeof(WebSocketProtocolException)];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        [0x81, 0x05, .. B("hello")],
        [0x01, 0x03, .. B("hel"), 0x89, 0x02, .. B("hi"), 0x80, 0x02, .. B("lo")],
        [0x82, 0x7E, 0x00, 0x80, .. new byte[128]],
        [0x88, 0x05, 0x03, 0xE8, .. B("bye")],
        [0x8A, 0x00, 0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
        [0x81, 0x04, 0xF0, 0x9F, 0x98, 0x80],
        // "Hello" compressed per RFC 7692 §7.2.3.1, then a second message reusing the window.
        [0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0xC1, 0x05, 0xF2, 0x00, 0x11, 0x00, 0x00],
        [0x41, 0x03, 0xF2, 0x48, 0xCD, 0x80, 0x04, 0xC9, 0xC9, 0x07, 0x00],
    ];

    public override IReadOnlyList<byte[]> Tokens => [[0x81], [0x82], [0x88], [0x89], [0x8A], [0x80], [0x01], [0xC1], [0x7E], [0x7F], [0x00, 0x00, 0xFF, 0xFF]];

    protected override string Execute(byte[] input)
    {
        var whole = Read(input, input.Length);
        foreach (var k in SplitPoints(input.Length).Take(12)) Same(whole, Read(input, k), k);
        return string.Join(",", whole.Split(';').Select(m => m.Split(':')[0]).Distinct());
    }

    // Drives the reader as the receive loop does: unconsumed bytes are passed again with the next ones.
    private string Read(byte[] input, int cut)
    {
        using var reader = new WsFrameReader(MaxMsgSize, deflate ? new WsInflater() : null);
        var messages = new List<string>();
        var pending = new List<byte>();
        try
        {
            foreach (var piece in new[] { input[..cut], input[cut..] })
            {
                pending.AddRange(piece);
                while (true)
                {
                    var buffer = pending.ToArray();
                    var more = reader.TryRead(buffer, out var used, out var message);
                    if (used < 0 || used > buffer.Length) throw new InvariantViolation($"consumed {used} of {buffer.Length}");
                    pending.RemoveRange(0, used);
                    if (!more) break;
                    messages.Add(Describe(message!));
                    if (message!.Type == WsMsgType.Close) return string.Join(";", messages);
                }
                if (pending.Count > 14) throw new InvariantViolation($"{pending.Count} bytes left unconsumed: more than a frame header");
            }
        }
        catch (WebSocketProtocolException e)
        {
            messages.Add($"E:{e.CloseCode}");
        }
        return string.Join(";", messages);
    }

    private static string Describe(WsMessage m) => m.Type switch
    {
        WsMsgType.Text => $"T:{m.Text!.Length}:{m.Text.GetHashCode(StringComparison.Ordinal)}",
        WsMsgType.Close => $"C:{m.CloseCode}:{m.Text}",
        _ => $"{m.Type}:{m.Data.Length}:{Convert.ToHexString(m.Data.Span[..Math.Min(8, m.Data.Length)])}",
    };
}
