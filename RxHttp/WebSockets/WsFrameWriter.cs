using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RxHttp.WebSockets;

/// <summary>
/// Encodes messages into RFC 6455 frames: client masking with a fresh key per frame, optional
/// permessage-deflate, and fragmentation at <see cref="MaxFrameSize"/>. Not thread-safe: the connection must
/// serialise sends (a frame of one message must never interleave with another's).
/// </summary>
internal sealed class WsFrameWriter : IDisposable
{
    /// <summary>Largest frame header: 2 bytes, 8-byte length, 4-byte mask key.</summary>
    public const int MaxHeaderSize = 14;
    /// <summary>Largest control frame payload (RFC 6455 section 5.5).</summary>
    public const int MaxControlPayload = 125;

    private readonly WsMaskKeySource _keys = new();
    private readonly WsByteBuffer _frames = new(1024);
    private readonly WsByteBuffer _compressed = new(1024);
    private readonly bool _mask;

    /// <summary>Creates a writer.</summary>
    /// <param name="deflater">The negotiated permessage-deflate compressor, or null. The writer owns it.</param>
    /// <param name="maxFrameSize">Split data messages into frames of at most this many payload bytes; 0 = one frame per message.</param>
    /// <param name="mask">Mask frames; true for a client. False exists to play the server in tests.</param>
    public WsFrameWriter(WsDeflater? deflater = null, int maxFrameSize = 0, bool mask = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrameSize);
        Deflater = deflater;
        MaxFrameSize = maxFrameSize;
        _mask = mask;
    }

    /// <summary>The compressor, when permessage-deflate was negotiated.</summary>
    public WsDeflater? Deflater { get; }
    /// <summary>Fragmentation size for data messages; 0 = none.</summary>
    public int MaxFrameSize { get; }

    /// <summary>Header size for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static int HeaderSize(long payloadLength, bool mask) =>
        (payloadLength < 126 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10) + (mask ? 4 : 0);

    /// <summary>
    /// Writes one frame to <paramref name="destination"/>, which must hold
    /// <see cref="HeaderSize"/> + payload bytes. An empty <paramref name="maskKey"/> writes an unmasked frame.
    /// </summary>
    /// <returns>Bytes written.</returns>
    public static int WriteFrame(Span<byte> destination, bool fin, bool rsv1, WsMsgType opcode, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> maskKey)
    {
        bool mask = !maskKey.IsEmpty;
        int len = payload.Length;
        destination[0] = (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | ((int)opcode & 0x0F));
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        int pos;
        if (len < 126)
        {
            destination[1] = (byte)(maskBit | len);
            pos = 2;
        }
        else if (len <= ushort.MaxValue)
        {
            destination[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)len);
            pos = 4;
        }
        else
        {
            destination[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)len);
            pos = 10;
        }
        if (mask)
        {
            maskKey.CopyTo(destination[pos..]);
            pos += 4;
            WsMask.Apply(payload, destination[pos..], maskKey);
        }
        else
        {
            payload.CopyTo(destination[pos..]);
        }
        return pos + len;
    }

    /// <summary>
    /// Encodes one message as frames into <paramref name="output"/>.
    /// </summary>
    /// <param name="output">Where the frames go.</param>
    /// <param name="type">Text, Binary, Ping, Pong or Close. A Close payload must come from <see cref="BuildClosePayload"/>.</param>
    /// <param name="payload">The message bytes (UTF-8 for text).</param>
    /// <param name="compress">Compress a data message; null = compress whenever a deflater is present.</param>
    /// <exception cref="ArgumentException">A control payload over 125 bytes, a non-wire type, or compress without a deflater.</exception>
    public void WriteMessage(IBufferWriter<byte> output, WsMsgType type, ReadOnlySpan<byte> payload, bool? compress = null)
    {
        Span<byte> key = stackalloc byte[4];
        if (type is WsMsgType.Close or WsMsgType.Ping or WsMsgType.Pong)
        {
            if (payload.Length > MaxControlPayload)
                throw new ArgumentException($"A {type} payload is limited to {MaxControlPayload} bytes, got {payload.Length}.", nameof(payload));
            WriteOne(output, true, false, type, payload, key);
            return;
        }
        if (type is not (WsMsgType.Text or WsMsgType.Binary))
            throw new ArgumentException($"{type} is not a message type that can be sent.", nameof(type));
        bool deflate = compress ?? Deflater is not null;
        if (deflate)
        {
            if (Deflater is null) throw new ArgumentException("Compression was not negotiated.", nameof(compress));
            _compressed.Clear();
            Deflater.CompressMessage(payload, _compressed);
            payload = _compressed.WrittenSpan;
        }
        int chunk = MaxFrameSize > 0 ? MaxFrameSize : int.MaxValue;
        var opcode = type;
        bool first = true;
        do
        {
            int n = Math.Min(chunk, payload.Length);
            bool fin = n == payload.Length;
            // RSV1 marks the whole message as compressed, so only its first frame carries it (RFC 7692 6.1).
            WriteOne(output, fin, deflate && first, opcode, payload[..n], key);
            payload = payload[n..];
            opcode = WsMsgType.Continuation;
            first = false;
        } while (!payload.IsEmpty);
    }

    private void WriteOne(IBufferWriter<byte> output, bool fin, bool rsv1, WsMsgType opcode, ReadOnlySpan<byte> payload, Span<byte> key)
    {
        int size = HeaderSize(payload.Length, _mask) + payload.Length;
        if (_mask) _keys.Next(key);
        int written = WriteFrame(output.GetSpan(size), fin, rsv1, opcode, payload, _mask ? key : default);
        output.Advance(written);
    }

    /// <summary>Encodes one message and writes all its frames to <paramref name="stream"/> in a single write.</summary>
    public async ValueTask SendAsync(Stream stream, WsMsgType type, ReadOnlyMemory<byte> payload, bool? compress = null, CancellationToken cancellationToken = default)
    {
        _frames.Clear();
        WriteMessage(_frames, type, payload.Span, compress);
        try
        {
            await stream.WriteAsync(_frames.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ReleaseLarge();
        }
    }

    // Once a message is written its encoded (and compressed) copy is dead: an oversized one goes back to the pool now,
    // as the reader's does. Cleared only before the next send, one 50 MB message left about 64 MB rented to an idle
    // websocket (twice that compressed) until it sent again or closed. Called with the write over, so nothing reads it.
    private void ReleaseLarge()
    {
        _frames.Clear();
        _compressed.Clear();
    }

    /// <summary>Bytes the writer holds between sends (tests: a large message is not kept).</summary>
    internal int HeldBytes => _frames.Array.Length + _compressed.Array.Length;

    /// <summary>Writes one frame as given (no compression, no splitting): ClientWebSocket.SendFrame.</summary>
    public async ValueTask SendFrameAsync(Stream stream, bool fin, WsMsgType opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        _frames.Clear();
        WriteRawFrame(fin, opcode, payload.Span);
        try
        {
            await stream.WriteAsync(_frames.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ReleaseLarge();
        }
    }

    private void WriteRawFrame(bool fin, WsMsgType opcode, ReadOnlySpan<byte> payload)
    {
        Span<byte> key = stackalloc byte[4];
        WriteOne(_frames, fin, false, opcode, payload, key);
    }

    /// <summary>Sends a text message.</summary>
    public async ValueTask SendTextAsync(Stream stream, string text, bool? compress = null, CancellationToken cancellationToken = default)
    {
        byte[] utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            int n = StrictEncodings.Utf8Bytes(text, utf8, nameof(text));
            await SendAsync(stream, WsMsgType.Text, utf8.AsMemory(0, n), compress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    /// <summary>Sends a close frame.</summary>
    public ValueTask SendCloseAsync(Stream stream, int code = (int)WsCloseCode.Ok, string? reason = null, CancellationToken cancellationToken = default)
        => SendAsync(stream, WsMsgType.Close, BuildClosePayload(code, reason), false, cancellationToken);

    /// <summary>A close frame payload: 2-byte big-endian code then the UTF-8 reason.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The code may not be sent, or the reason is over 123 UTF-8 bytes.</exception>
    /// <exception cref="ArgumentException">The reason has a lone surrogate.</exception>
    public static byte[] BuildClosePayload(int code, string? reason = null)
    {
        if (!WsFrameReader.IsValidCloseCode(code))
            throw new ArgumentOutOfRangeException(nameof(code), code, "This close code may not be sent (RFC 6455 section 7.4).");
        var utf8 = reason is null ? [] : StrictEncodings.Utf8Bytes(reason, nameof(reason));
        if (utf8.Length > MaxControlPayload - 2)
            throw new ArgumentOutOfRangeException(nameof(reason), $"A close reason is limited to {MaxControlPayload - 2} UTF-8 bytes, got {utf8.Length}.");
        var payload = new byte[2 + utf8.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        utf8.CopyTo(payload.AsSpan(2));
        return payload;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _frames.Dispose();
        _compressed.Dispose();
        Deflater?.Dispose();
    }
}
