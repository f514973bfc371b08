using System.Buffers.Binary;

namespace RxHttp;

/// <summary>
/// Walks the frames of a zstd body as its bytes go to the decoder (RFC 8878 §3.1: frame and block headers only),
/// adding up the content sizes their headers declare. The decoder checks a frame's declared size when it decodes
/// the frame in one pass, but not when it decodes it piece by piece and the frame ends with an empty last block:
/// the same bytes failed as corrupt when they came in one read and gave a short body when split. The body's end
/// compares what the frames declared with what was decoded (a frame that declares nothing may hold anything).
/// </summary>
internal sealed class ZstdFrameSizes
{
    private const uint FrameMagic = 0xFD2FB528;
    private const uint SkippableMagicMask = 0xFFFFFFF0;
    private const uint SkippableMagic = 0x184D2A50;

    private enum Stage { Magic, SkippableSize, FrameHeader, BlockHeader, Skip }

    private readonly byte[] _field = new byte[14]; // a header in the making (a frame header is at most 14 bytes past its magic)
    private Stage _stage = Stage.Magic;
    private int _have, _need = 4;
    private long _skip;
    private bool _lastBlock;
    private int _checksum;

    /// <summary>The content sizes the frames walked so far declared (those that declare one), or null once the walk lost its way.</summary>
    public long? Declared { get; private set; } = 0;

    /// <summary>Whether every frame walked so far declared its size (then the body must decode to exactly <see cref="Declared"/>).</summary>
    public bool EveryFrameDeclared { get; private set; } = true;

    /// <summary>
    /// The error for a body that decoded to <paramref name="decoded"/> bytes, or null when it matches: exactly what
    /// the frames declared, or, when some declared nothing, at least what the others did.
    /// </summary>
    public string? Mismatch(long decoded) => Declared is not { } declared ? null
        : EveryFrameDeclared ? (decoded == declared ? null : $"zstd: the frames' headers declare {declared} bytes of content, and they decoded to {decoded}.")
        : decoded >= declared ? null : $"zstd: frames' headers declare {declared} bytes of content, and the body decoded to {decoded}.";

    /// <summary>Feeds the next compressed bytes.</summary>
    public void Walk(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && Declared is not null)
        {
            if (_stage == Stage.Skip)
            {
                var n = (int)Math.Min(_skip, bytes.Length);
                _skip -= n;
                bytes = bytes[n..];
                if (_skip == 0) AfterSkip();
                continue;
            }
            var take = Math.Min(_need - _have, bytes.Length);
            bytes[..take].CopyTo(_field.AsSpan(_have));
            _have += take;
            bytes = bytes[take..];
            if (_have == _need) OnField();
        }
    }

    private void Expect(Stage stage, int bytes)
    {
        _stage = stage;
        _have = 0;
        _need = bytes;
    }

    private void SkipThen(long bytes)
    {
        _stage = Stage.Skip;
        _skip = bytes;
        if (bytes == 0) AfterSkip();
    }

    private void AfterSkip()
    {
        if (!_lastBlock) Expect(Stage.BlockHeader, 3);
        else if (_checksum > 0)
        {
            var n = _checksum;
            _checksum = 0;
            SkipThen(n);
        }
        else
        {
            _lastBlock = false;
            Expect(Stage.Magic, 4);
        }
    }

    private void OnField()
    {
        switch (_stage)
        {
            case Stage.Magic:
                var magic = BinaryPrimitives.ReadUInt32LittleEndian(_field);
                if (magic == FrameMagic) Expect(Stage.FrameHeader, 1);
                else if ((magic & SkippableMagicMask) == SkippableMagic) Expect(Stage.SkippableSize, 4);
                else Declared = null; // not a frame: the decoder reports it
                break;
            case Stage.SkippableSize:
                _lastBlock = true; // a skippable frame's data ends it
                SkipThen(BinaryPrimitives.ReadUInt32LittleEndian(_field));
                break;
            case Stage.FrameHeader:
                OnFrameHeader();
                break;
            case Stage.BlockHeader:
                var header = _field[0] | _field[1] << 8 | _field[2] << 16;
                _lastBlock = (header & 1) != 0;
                var type = (header >> 1) & 3;
                var size = header >> 3;
                if (type == 3) Declared = null; // reserved: the decoder reports it
                else SkipThen(type == 1 ? 1 : size); // an RLE block carries one byte
                break;
        }
    }

    // The frame header descriptor decides the rest of the header's length; once all of it is here, its size is read.
    private void OnFrameHeader()
    {
        var descriptor = _field[0];
        var singleSegment = (descriptor & 0x20) != 0;
        var fcsBytes = (descriptor >> 6) switch { 0 => singleSegment ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
        var dictBytes = (descriptor & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
        var length = 1 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
        if (_need < length)
        {
            _need = length;
            return;
        }
        var fcs = _field.AsSpan(length - fcsBytes, fcsBytes);
        long? size = fcsBytes switch
        {
            0 => null,
            1 => fcs[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(fcs) + 256,
            4 => BinaryPrimitives.ReadUInt32LittleEndian(fcs),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(fcs) is var v && v <= long.MaxValue ? (long)v : null,
        };
        // Sizes that add up past what a long holds are no body anyone can receive: the check stands down.
        if (size is { } s) Declared = Declared is { } d && s <= long.MaxValue - d ? d + s : null;
        else EveryFrameDeclared = false;
        _checksum = (descriptor & 4) != 0 ? 4 : 0;
        _lastBlock = false;
        Expect(Stage.BlockHeader, 3);
    }
}
