using System.Reactive;

namespace RxHttp;

public sealed partial class ClientWebSocket
{
    private bool _fragmenting; // under the send lock: a data message sent with SendFrame(fin: false) awaits its last frame

    /// <summary>
    /// Sends one frame as given (aiohttp's <c>send_frame</c>), for protocols that fragment messages themselves or
    /// build their payloads elsewhere: no compression, no splitting by <see cref="WsConnectOptions.MaxFrameSize"/>. A
    /// message in several frames is a <see cref="WsMsgType.Text"/> or <see cref="WsMsgType.Binary"/> frame with
    /// <paramref name="fin"/> false, then <see cref="WsMsgType.Continuation"/> frames, the last with
    /// <paramref name="fin"/> true; PING and PONG may come between them (RFC 6455 section 5.4), other messages may not
    /// and fail with <see cref="InvalidOperationException"/> until it ends. Cold: sent once per subscription,
    /// completing when the frame is written. The bytes are not copied; do not change them until it completes.
    /// </summary>
    /// <param name="payload">The frame's payload (UTF-8 for a whole TEXT message).</param>
    /// <param name="opcode">Text, Binary, Continuation, Ping or Pong; a close goes through <see cref="Close(int, string?)"/>.</param>
    /// <param name="fin">Whether this frame ends its message (always true for PING and PONG).</param>
    /// <exception cref="ArgumentException">Another opcode, a control frame over 125 bytes or not final, or a whole
    /// TEXT message that is not valid UTF-8.</exception>
    public IObservable<Unit> SendFrame(ReadOnlyMemory<byte> payload, WsMsgType opcode, bool fin = true)
    {
        switch (opcode)
        {
            case WsMsgType.Ping or WsMsgType.Pong:
                if (!fin) throw new ArgumentException($"A {opcode} frame cannot be fragmented (RFC 6455 section 5.5).", nameof(fin));
                CheckControl(payload);
                break;
            case WsMsgType.Text when fin && !System.Text.Unicode.Utf8.IsValid(payload.Span):
                throw new ArgumentException("A whole TEXT message must be valid UTF-8 (RFC 6455 section 8.1).", nameof(payload));
            case WsMsgType.Text or WsMsgType.Binary or WsMsgType.Continuation:
                break;
            case WsMsgType.Close:
                throw new ArgumentException("Send a CLOSE frame with Close(code, message), which runs the closing handshake.", nameof(opcode));
            default:
                throw new ArgumentException($"{opcode} is not a frame opcode that can be sent.", nameof(opcode));
        }
        return RxAsync.FromAsync(async ct =>
        {
            await SendFrameAsync(opcode, payload, false, ct, fin: fin).ConfigureAwait(false);
            return Unit.Default;
        });
    }

    // Data frames of two messages must not interleave; checked under the send lock before anything is written.
    private void TrackFragments(WsMsgType type, bool? fin)
    {
        switch (type)
        {
            case WsMsgType.Continuation when !_fragmenting:
                throw new InvalidOperationException("A CONTINUATION frame needs a fragmented message started by SendFrame(..., Text or Binary, fin: false).");
            case WsMsgType.Continuation:
                _fragmenting = fin != true;
                break;
            case WsMsgType.Text or WsMsgType.Binary when _fragmenting:
                throw new InvalidOperationException("A fragmented message is being sent: finish it with a CONTINUATION frame with fin: true first.");
            case WsMsgType.Text or WsMsgType.Binary:
                _fragmenting = fin == false;
                break;
        }
    }
}
