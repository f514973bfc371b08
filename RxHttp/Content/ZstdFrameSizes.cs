using System.Buffers.Binary;

namespace RxHttp;

/// <summary>
/// Walks the frames of a zstd body as its bytes go to the decoder (RFC 8878 §3.1: frame and block headers only) and
/// queues, frame by frame, the content size each header declares. The decoder checks a frame's declared size when it
/// decodes the frame in one pass, but not when it decodes it piece by piece and the frame ends with an empty last
/// block: the same bytes failed as corrupt when they came in one read and gave a short body when split. The walker
/// also records where each frame ends, so the decoder can be given one frame at a time (left to itself it runs on
/// into the next frame within one call); then the output since the previous frame's end is this frame's, and it is
/// checked against what its header declared (a frame that declares nothing may hold anything).
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

    // One entry per frame whose header was walked and whose end the decoder has not reported yet: its declared
    // content size, or -1 for a frame that declares none (skippable frames included, which hold no content).
    private readonly Queue<long> _frames = new();
    private readonly Queue<long> _ends = new(); // where those frames end, for those the walk has passed
    private long _walked;
    private bool _lost;

    /// <summary>
    /// Where, counted from the body's first compressed byte, the frame the decoder is in ends; null when the walk has
    /// not got there (then every byte walked belongs to it) or lost its way.
    /// </summary>
    public long? CurrentFrameEnd => !_lost && _ends.TryPeek(out var end) ? end : null;

    /// <summary>
    /// Called when the decoder finished a frame that decoded to <paramref name="decoded"/> bytes: the error when the
    /// frame's header declared another size, else null (also when the walk lost its way: the decoder reports that).
    /// </summary>
    public string? FrameEnded(long decoded)
    {
        _ends.TryDequeue(out _);
        if (_lost || !_frames.TryDequeue(out var declared) || declared < 0 || declared == decoded) return null;
        return $"zstd: a frame's header declares {declared} bytes of content, and it decoded to {decoded}.";
    }

    /// <summary>Feeds the next compressed bytes.</summary>
    public void Walk(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && !_lost)
        {
            if (_stage == Stage.Skip)
            {
                var n = (int)Math.Min(_skip, bytes.Length);
                _skip -= n;
                _walked += n;
                bytes = bytes[n..];
                if (_skip == 0) AfterSkip();
                continue;
            }
            var take = Math.Min(_need - _have, bytes.Length);
            bytes[..take].CopyTo(_field.AsSpan(_have));
            _have += take;
            _walked += take;
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
            _ends.Enqueue(_walked);
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
                else _lost = true; // not a frame: the decoder reports it
                break;
            case Stage.SkippableSize:
                _frames.Enqueue(-1);
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
                if (type == 3) _lost = true; // reserved: the decoder reports it
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
        var size = fcsBytes switch
        {
            0 => -1,
            1 => fcs[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(fcs) + 256,
            4 => BinaryPrimitives.ReadUInt32LittleEndian(fcs),
            // Past what a long holds is no body anyone can receive: such a frame is checked as one that declares nothing.
            _ => BinaryPrimitives.ReadUInt64LittleEndian(fcs) is var v && v <= long.MaxValue ? (long)v : -1,
        };
        _frames.Enqueue(size);
        _checksum = (descriptor & 4) != 0 ? 4 : 0;
        _lastBlock = false;
        Expect(Stage.BlockHeader, 3);
    }
}
