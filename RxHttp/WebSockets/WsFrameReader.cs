using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace RxHttp.WebSockets;

/// <summary>
/// A restartable RFC 6455 client-side parser and message assembler. Feed it whatever bytes arrived; it
/// consumes frame headers only once complete (at most <see cref="WsFrameWriter.MaxHeaderSize"/> bytes stay
/// unconsumed) and consumes payload bytes as they come, so a receive buffer of a few KiB handles messages of
/// any size and never needs to grow. Fragmented messages are reassembled; control frames between fragments
/// are delivered at once. Size limits are checked from the frame header before any payload is buffered, and
/// text is UTF-8 validated incrementally, so a bad message fails at the first bad byte.
/// </summary>
/// <remarks>
/// Drive it from a receive loop:
/// <code>
/// int start = 0, end = 0;
/// while (true)
/// {
///     while (reader.TryRead(buf.AsSpan(start, end - start), out int used, out var msg))
///     {   start += used; Deliver(msg); }          // a message per call; stop if it was Close
///     start += used;                             // payload bytes were taken even without a message
///     buf.AsSpan(start, end - start).CopyTo(buf); end -= start; start = 0;   // keep the partial header
///     int n = await stream.ReadAsync(buf.AsMemory(end)); if (n == 0) break; end += n;
/// }
/// </code>
/// <see cref="WebSocketProtocolException"/> means the peer broke the protocol: send a close frame with its
/// <see cref="WebSocketProtocolException.CloseCode"/> and stop reading; the reader stays failed.
/// Not thread-safe.
/// </remarks>
internal sealed class WsFrameReader : IDisposable
{
    /// <summary>aiohttp's default max_msg_size: 4 MiB.</summary>
    public const int DefaultMaxMsgSize = 4 * 1024 * 1024;

    private readonly WsByteBuffer _message = new();
    private readonly byte[] _control = new byte[WsFrameWriter.MaxControlPayload];
    private readonly WsInflater? _inflater;
    private WebSocketProtocolException? _failure;

    // Current frame.
    private bool _inPayload;
    private bool _fin;
    private WsMsgType _opcode;
    private long _remaining;
    private int _controlLength;

    // Current (possibly fragmented) data message.
    private bool _messageOpen;
    private WsMsgType _messageType;
    private bool _compressed;
    private int _utf8Validated;

    /// <summary>Creates a reader.</summary>
    /// <param name="maxMsgSize">Largest message (after decompression) in bytes; 0 = no limit.</param>
    /// <param name="inflater">The negotiated permessage-deflate decompressor, or null when the extension is
    /// off (then RSV1 is a protocol error). The reader owns it.</param>
    public WsFrameReader(int maxMsgSize = DefaultMaxMsgSize, WsInflater? inflater = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMsgSize);
        MaxMsgSize = maxMsgSize;
        _inflater = inflater;
    }

    /// <summary>The message size limit; 0 = none.</summary>
    public int MaxMsgSize { get; }

    /// <summary>
    /// Parses from <paramref name="buffer"/> until one message is complete or the buffer runs out.
    /// </summary>
    /// <param name="buffer">Bytes received and not yet consumed.</param>
    /// <param name="consumed">Bytes taken from the front of <paramref name="buffer"/>, whether or not a
    /// message was produced. The rest (an incomplete frame header, or bytes after the message) must be
    /// passed again, followed by newly received bytes.</param>
    /// <param name="message">The message, when the result is true.</param>
    /// <returns>true with a message; false when more data is needed.</returns>
    /// <exception cref="WebSocketProtocolException">The peer violated RFC 6455/7692.</exception>
    public bool TryRead(ReadOnlySpan<byte> buffer, out int consumed, out WsMessage? message)
    {
        if (_failure is not null) throw new InvalidOperationException("The reader failed earlier: " + _failure.Message, _failure);
        try
        {
            return ReadCore(buffer, out consumed, out message);
        }
        catch (WebSocketProtocolException e)
        {
            _failure = e;
            throw;
        }
    }

    private bool ReadCore(ReadOnlySpan<byte> buffer, out int consumed, out WsMessage? message)
    {
        consumed = 0;
        message = null;
        while (true)
        {
            if (!_inPayload)
            {
                int headerLength = ParseHeader(buffer[consumed..]);
                if (headerLength == 0) return false;
                consumed += headerLength;
                _inPayload = true;
            }
            int take = (int)Math.Min(_remaining, buffer.Length - consumed);
            if (take > 0)
            {
                AppendPayload(buffer.Slice(consumed, take));
                consumed += take;
                _remaining -= take;
            }
            if (_remaining > 0) return false;
            _inPayload = false;
            message = EndFrame();
            if (message is not null) return true;
        }
    }

    /// <returns>The header size, or 0 when the header is not complete yet.</returns>
    private int ParseHeader(ReadOnlySpan<byte> b)
    {
        if (b.Length < 2) return 0;
        byte b0 = b[0], b1 = b[1];
        // Validate what the first two bytes say before waiting for the rest, so garbage fails at once.
        bool fin = (b0 & 0x80) != 0;
        bool rsv1 = (b0 & 0x40) != 0;
        if ((b0 & 0x30) != 0) throw Protocol("RSV2/RSV3 set without a negotiated extension");
        var opcode = (WsMsgType)(b0 & 0x0F);
        if ((b1 & 0x80) != 0) throw Protocol("the server sent a masked frame");
        int len7 = b1 & 0x7F;
        bool control = ((int)opcode & 0x08) != 0;
        if (control)
        {
            if (opcode is not (WsMsgType.Close or WsMsgType.Ping or WsMsgType.Pong)) throw Protocol($"unknown opcode {(int)opcode}");
            if (!fin) throw Protocol("fragmented control frame");
            if (len7 > WsFrameWriter.MaxControlPayload) throw Protocol("control frame payload over 125 bytes");
            if (rsv1) throw Protocol("RSV1 set on a control frame");
        }
        else if (opcode == WsMsgType.Continuation)
        {
            if (!_messageOpen) throw Protocol("continuation frame without a message to continue");
            if (rsv1) throw Protocol("RSV1 set on a continuation frame");
        }
        else if (opcode is WsMsgType.Text or WsMsgType.Binary)
        {
            if (_messageOpen) throw Protocol("new data frame while a fragmented message is incomplete");
            if (rsv1 && _inflater is null) throw Protocol("RSV1 set but permessage-deflate was not negotiated");
        }
        else
        {
            throw Protocol($"unknown opcode {(int)opcode}");
        }

        int headerLength;
        long length;
        if (len7 < 126)
        {
            headerLength = 2;
            length = len7;
        }
        else if (len7 == 126)
        {
            if (b.Length < 4) return 0;
            headerLength = 4;
            length = BinaryPrimitives.ReadUInt16BigEndian(b[2..]);
        }
        else
        {
            if (b.Length < 10) return 0;
            headerLength = 10;
            ulong l = BinaryPrimitives.ReadUInt64BigEndian(b[2..]);
            if ((l & (1UL << 63)) != 0) throw Protocol("64-bit payload length with the most significant bit set");
            length = (long)l;
        }

        _fin = fin;
        _opcode = opcode;
        _remaining = length;
        if (control)
        {
            _controlLength = 0;
            return headerLength;
        }
        if (opcode != WsMsgType.Continuation)
        {
            _messageOpen = true;
            _messageType = opcode;
            _compressed = rsv1;
            _utf8Validated = 0;
            _message.Clear();
        }
        // Compressed frames are checked on the inflated size as it is produced; plain ones here, before
        // a single payload byte is buffered.
        if (!_compressed)
        {
            long limit = MaxMsgSize > 0 ? MaxMsgSize : Array.MaxLength;
            if (_message.Length + length > limit)
                throw new WebSocketProtocolException(WsCloseCode.MessageTooBig, $"Message size {_message.Length + length} exceeds limit {limit}");
        }
        return headerLength;
    }

    private void AppendPayload(ReadOnlySpan<byte> chunk)
    {
        if (((int)_opcode & 0x08) != 0)
        {
            chunk.CopyTo(_control.AsSpan(_controlLength));
            _controlLength += chunk.Length;
            return;
        }
        if (_compressed)
        {
            bool ok;
            try
            {
                ok = _inflater!.Inflate(chunk, _message, MaxMsgSize);
            }
            catch (InvalidDataException e)
            {
                throw new WebSocketProtocolException(WsCloseCode.InvalidText, "Invalid permessage-deflate data: " + e.Message, e);
            }
            if (!ok) throw TooBig();
        }
        else
        {
            _message.Write(chunk);
        }
        if (_messageType == WsMsgType.Text) ValidateUtf8(final: false);
    }

    private WsMessage? EndFrame()
    {
        switch (_opcode)
        {
            case WsMsgType.Ping:
                return WsMessage.CreatePing(_control.AsSpan(0, _controlLength).ToArray());
            case WsMsgType.Pong:
                return WsMessage.CreatePong(_control.AsSpan(0, _controlLength).ToArray());
            case WsMsgType.Close:
                return ParseClose(_control.AsSpan(0, _controlLength));
        }
        if (!_fin) return null;
        if (_compressed)
        {
            bool ok;
            try
            {
                ok = _inflater!.FinishMessage(_message, MaxMsgSize);
            }
            catch (InvalidDataException e)
            {
                throw new WebSocketProtocolException(WsCloseCode.InvalidText, "Invalid permessage-deflate data: " + e.Message, e);
            }
            if (!ok) throw TooBig();
        }
        _messageOpen = false;
        WsMessage result;
        if (_messageType == WsMsgType.Text)
        {
            ValidateUtf8(final: true);
            result = WsMessage.CreateText(Encoding.UTF8.GetString(_message.WrittenSpan));
        }
        else
        {
            result = WsMessage.CreateBinary(_message.WrittenSpan.ToArray());
        }
        _message.Clear();
        return result;
    }

    private WebSocketProtocolException TooBig() =>
        new(WsCloseCode.MessageTooBig, $"Decompressed message exceeds limit {MaxMsgSize}");

    /// <summary>
    /// Validates the text received since the last call. A multi-byte character may be cut by a frame or read
    /// boundary; its valid-so-far start is left for the next call, so only genuinely bad bytes fail.
    /// </summary>
    private void ValidateUtf8(bool final)
    {
        var pending = _message.WrittenSpan[_utf8Validated..];
        if (Utf8.IsValid(pending))
        {
            _utf8Validated = _message.Length;
            return;
        }
        if (!final)
        {
            // Find the start of the last sequence: at most 3 bytes back for a 4-byte character.
            for (int back = 1; back <= 3 && back <= pending.Length; back++)
            {
                if ((pending[^back] & 0xC0) == 0x80) continue;
                int cut = pending.Length - back;
                if (Rune.DecodeFromUtf8(pending[cut..], out _, out _) == OperationStatus.NeedMoreData && Utf8.IsValid(pending[..cut]))
                {
                    _utf8Validated += cut;
                    return;
                }
                break;
            }
        }
        throw new WebSocketProtocolException(WsCloseCode.InvalidText, "Invalid UTF-8 in a text message");
    }

    private static WsMessage ParseClose(ReadOnlySpan<byte> payload)
    {
        if (payload.Length == 0) return WsMessage.CreateClose(null, "");
        if (payload.Length == 1) throw Protocol("close frame with a 1-byte payload");
        int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (!IsValidCloseCode(code)) throw Protocol($"invalid close code {code}");
        var reason = payload[2..];
        if (!Utf8.IsValid(reason)) throw new WebSocketProtocolException(WsCloseCode.InvalidText, "Invalid UTF-8 in the close reason");
        return WsMessage.CreateClose(code, Encoding.UTF8.GetString(reason));
    }

    /// <summary>
    /// Whether a close code may appear on the wire (RFC 6455 section 7.4): the defined codes except the
    /// reserved 1004-1006 and 1015, plus 3000-4999 for libraries and applications.
    /// </summary>
    public static bool IsValidCloseCode(int code) => code switch
    {
        >= 1000 and <= 1003 => true,
        >= 1007 and <= 1014 => true,
        >= 3000 and <= 4999 => true,
        _ => false,
    };

    private static WebSocketProtocolException Protocol(string what) => new(WsCloseCode.ProtocolError, "WebSocket protocol error: " + what);

    /// <inheritdoc/>
    public void Dispose()
    {
        _message.Dispose();
        _inflater?.Dispose();
    }
}
