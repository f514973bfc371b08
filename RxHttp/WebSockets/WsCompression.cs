using System.Buffers;
using System.IO.Compression;

namespace RxHttp.WebSockets;

/// <summary>
/// The sending half of permessage-deflate (RFC 7692 §7.2.1): raw deflate through the public
/// <see cref="DeflateStream"/>, whose <see cref="Stream.Flush"/> is zlib's sync flush, so every message ends with
/// the 00 00 FF FF marker that is then removed. One stream kept across messages is context takeover; a fresh one
/// per message is client_no_context_takeover. Not thread-safe.
/// </summary>
/// <remarks>
/// No public API chooses the LZ77 window, so a window the server limits below 15 bits (client_max_window_bits) is
/// honoured by compressing the message in pieces of at most 2^bits bytes, each with a fresh stream: a match can
/// then reach back no further than its own piece, which is within the window, and no history crosses pieces or
/// messages. The sync-flushed pieces concatenate into one valid deflate stream. It costs a compressor per piece
/// (as client_no_context_takeover does per message) and the ratio of history longer than the window, which the
/// peer forbade anyway.
/// </remarks>
internal sealed class WsDeflater : IDisposable
{
    private static ReadOnlySpan<byte> Tail => [0x00, 0x00, 0xFF, 0xFF];
    private readonly BufferSink _sink = new();
    private readonly ZLibCompressionOptions _options;
    private readonly int _piece;
    private readonly bool _freshPerMessage;
    private DeflateStream? _stream;
    private bool _disposed;

    /// <summary>Creates a deflater.</summary>
    /// <param name="windowBits">LZ77 window the peer allows, 9..15; below 15 messages are compressed in window-sized pieces.</param>
    /// <param name="noContextTakeover">Reset the window after every message (client_no_context_takeover).</param>
    /// <param name="level">zlib level 0..9, or -1 for zlib's default.</param>
    public WsDeflater(int windowBits = 15, bool noContextTakeover = false, int level = -1)
    {
        if (windowBits is < 9 or > 15) throw new ArgumentOutOfRangeException(nameof(windowBits), windowBits, "Deflate window bits must be 9..15.");
        if (level is < -1 or > 9) throw new ArgumentOutOfRangeException(nameof(level));
        WindowBits = windowBits;
        NoContextTakeover = noContextTakeover;
        _options = new ZLibCompressionOptions { CompressionLevel = level };
        _piece = windowBits < 15 ? 1 << windowBits : int.MaxValue;
        _freshPerMessage = noContextTakeover || windowBits < 15;
    }

    /// <summary>The window the peer allows.</summary>
    public int WindowBits { get; }

    /// <summary>Whether the window is reset after every message.</summary>
    public bool NoContextTakeover { get; }

    /// <summary>Appends the compressed form of one whole message to <paramref name="output"/>.</summary>
    public void CompressMessage(ReadOnlySpan<byte> message, WsByteBuffer output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (message.IsEmpty)
        {
            // zlib writes nothing for a sync flush with no new input, so write the empty stored block RFC 7692
            // §7.2.3.6 uses; after the stripped marker it is the single byte 00.
            output.Write([0x00]);
            return;
        }
        int start = output.Length;
        _sink.Target = output;
        try
        {
            do
            {
                var piece = message[..Math.Min(message.Length, _piece)];
                message = message[piece.Length..];
                var stream = _stream ??= new DeflateStream(_sink, _options, leaveOpen: true);
                stream.Write(piece);
                stream.Flush();
                if (!message.IsEmpty) DropStream();
            } while (!message.IsEmpty);
        }
        finally
        {
            _sink.Target = null;
        }
        if (output.Length - start < 4 || !output.WrittenSpan[^4..].SequenceEqual(Tail))
            throw new InvalidOperationException("Deflate did not end the message with a sync flush marker.");
        output.Truncate(4);
        if (_freshPerMessage) DropStream();
    }

    // Disposing finishes the deflate stream; its final block must go nowhere.
    private void DropStream()
    {
        var stream = _stream;
        _stream = null;
        if (stream is null) return;
        var target = _sink.Target;
        _sink.Target = null;
        stream.Dispose();
        _sink.Target = target;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DropStream();
    }

    /// <summary>Where the compressor writes: the message buffer of the current call, or nowhere between calls.</summary>
    private sealed class BufferSink : Stream
    {
        public WsByteBuffer? Target;

        public override void Write(ReadOnlySpan<byte> buffer) => Target?.Write(buffer);
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>
/// The receiving half of permessage-deflate: feed each compressed frame payload as it arrives, then
/// <see cref="FinishMessage"/>. A raw <see cref="DeflateStream"/> always inflates with a 15-bit window, which
/// accepts any smaller deflate window, so server_max_window_bits needs no honouring here. Not thread-safe.
/// </summary>
internal sealed class WsInflater : IDisposable
{
    private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];
    // What the inflater pulls per read; input is staged in a pooled array of this size only during a call, so an
    // idle connection holds none.
    private const int StageSize = 8 * 1024;
    private readonly InputFeed _feed = new();
    private DeflateStream? _stream;
    // The stream reached a final block (BFINAL, RFC 7692 §7.2.3.4): the rest of this message (at most the header
    // of an empty stored block) produces nothing, and the next message starts a fresh stream, as the peer's did.
    private bool _ended;
    private bool _disposed;

    /// <summary>Creates an inflater.</summary>
    /// <param name="noContextTakeover">Reset after every message (server_no_context_takeover). Keeping the
    /// window would be correct too; resetting just frees the peer's history sooner.</param>
    public WsInflater(bool noContextTakeover = false) => NoContextTakeover = noContextTakeover;

    /// <summary>Whether the window is reset after every message.</summary>
    public bool NoContextTakeover { get; }

    /// <summary>Inflates part of a message, appending to <paramref name="output"/>.</summary>
    /// <returns>false when <paramref name="output"/> would grow past <paramref name="maxOutput"/> (0 = no limit).</returns>
    /// <exception cref="InvalidDataException">The data is not valid deflate.</exception>
    public bool Inflate(ReadOnlySpan<byte> compressed, WsByteBuffer output, long maxOutput) => Run(compressed, output, maxOutput);

    /// <summary>Ends a message: inflates the stripped 00 00 FF FF marker and applies no_context_takeover.</summary>
    public bool FinishMessage(WsByteBuffer output, long maxOutput)
    {
        bool ok = Run(Tail, output, maxOutput);
        if (_ended || NoContextTakeover || !ok) Reset();
        return ok;
    }

    /// <summary>Drops any partial state, for example after a failed message.</summary>
    public void Reset()
    {
        var stream = _stream;
        _stream = null;
        _ended = false;
        stream?.Dispose();
    }

    /// <summary>
    /// Pushes <paramref name="input"/> through the inflater into <paramref name="output"/>. With
    /// <paramref name="maxOutput"/> &gt; 0 the output never grows past maxOutput + 1 bytes, so a decompression bomb
    /// is caught after producing one byte too many, not gigabytes.
    /// </summary>
    private bool Run(ReadOnlySpan<byte> input, WsByteBuffer output, long maxOutput)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ended) return true;
        var stage = ArrayPool<byte>.Shared.Rent(StageSize);
        try
        {
            do
            {
                int n = Math.Min(input.Length, stage.Length);
                input[..n].CopyTo(stage);
                input = input[n..];
                _feed.Set(stage, n);
                while (true)
                {
                    var stream = _stream ??= new DeflateStream(_feed, CompressionMode.Decompress, leaveOpen: true);
                    output.EnsureFree(4096);
                    int room = output.FreeCapacity;
                    if (maxOutput > 0) room = (int)Math.Min(room, maxOutput + 1 - output.Length);
                    int got = stream.Read(output.Array.AsSpan(output.Length, room));
                    output.Advance(got);
                    if (maxOutput > 0 && output.Length > maxOutput) return false;
                    if (got > 0) continue;
                    if (_feed.Left == 0) break;
                    // A stream that has ended takes no more input: it read its final block earlier.
                    _ended = true;
                    return true;
                }
            } while (!input.IsEmpty);
        }
        finally
        {
            _feed.Set(null, 0);
            ArrayPool<byte>.Shared.Return(stage);
        }
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Reset();
    }

    /// <summary>Hands the inflater the bytes of the current call, then reports "nothing more yet" (0).</summary>
    private sealed class InputFeed : ReadOnlyStreamBase
    {
        private byte[]? _data;
        private int _position, _length;

        public int Left => _length - _position;

        public void Set(byte[]? data, int length)
        {
            _data = data;
            _position = 0;
            _length = length;
        }

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, Left);
            if (n == 0) return 0;
            _data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        // The bytes are already here: reads complete at once, with no sync-over-async.
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));
    }
}
