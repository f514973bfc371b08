using System.IO.Compression;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace RxHttp;

/// <summary>The zstd content coding (RFC 8878) through ZstdSharp, a managed port of the reference library.</summary>
internal static class ZstdCoding
{
    /// <summary>
    /// Largest window a response may make the decoder allocate: 2^23 = 8 MiB, the limit RFC 9659 sets for the
    /// "zstd" HTTP coding (browsers use the same). A frame asking for more is a <see cref="ClientPayloadError"/>
    /// rather than an allocation the server chooses.
    /// </summary>
    public const int MaxWindowLog = 23;

    public static Stream Decoder(Stream raw) => new DecodingStream(raw);

    public static Stream Encoder(Stream sink, CompressionLevel level) => new CompressionStream(sink, level switch
    {
        CompressionLevel.NoCompression or CompressionLevel.Fastest => 1,
        CompressionLevel.SmallestSize => 19,
        _ => 3, // zstd's own default
    }, leaveOpen: true);

    // The decoder checks a frame's declared content size only when it can decode the frame in one pass (the whole
    // frame in its input and room for all of it in the output): a frame declaring 88 bytes whose only block is an
    // empty last one failed as corrupt in one read, and decoded to an empty body when its header and block came in
    // separate reads or the reads were small (found by the fuzzer's whole-versus-split check,
    // Fuzz/Regressions/zstd). ZstdFrameSizes queues what each frame's header declares, and each frame's end checks it.
    // Corrupt input, an oversized window, a body that ends inside a frame and a size that does not match are
    // InvalidDataException, which the response turns into ClientPayloadError as for gzip, deflate and br.
    private sealed class DecodingStream : ReadOnlyStreamBase
    {
        private const int InputSize = 128 * 1024;
        private readonly Stream _raw;
        private readonly Decompressor _decoder = new();
        private byte[]? _input = System.Buffers.ArrayPool<byte>.Shared.Rent(InputSize);
        private int _start, _end; // compressed bytes read and not yet taken by the decoder
        private long _taken; // compressed bytes the decoder took, all told: where input[_start] is in the body
        private bool _inFrame; // the decoder took bytes of a frame it has not finished
        private bool _flush; // the last call filled the output: the decoder may hold more
        private readonly ZstdFrameSizes _sizes = new();
        private long _frameDecoded; // output of the frame being decoded (the decoder stops at each frame's end)

        public DecodingStream(Stream raw)
        {
            _raw = raw;
            _decoder.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, MaxWindowLog);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty) return 0;
            var input = _input ?? throw new ObjectDisposedException(nameof(ZstdCoding));
            while (true)
            {
                if (_start < _end || _flush)
                {
                    var (written, status) = Decode(input, buffer.Span);
                    if (written > 0) return written;
                    // The next frame's bytes are already here, or the decoder still holds output.
                    if (status != System.Buffers.OperationStatus.NeedMoreData) continue;
                }
                // What the decoder left (it takes all it is given, so this is normally nothing) moves to the front.
                if (_start > 0)
                {
                    input.AsSpan(_start, _end - _start).CopyTo(input);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == input.Length) throw new InvalidDataException("zstd: the decoder took none of a full input buffer.");
                var got = await _raw.ReadAsync(input.AsMemory(_end), cancellationToken).ConfigureAwait(false);
                if (got == 0)
                {
                    if (_inFrame) throw new InvalidDataException("zstd: the body ended inside a frame.");
                    return 0;
                }
                _sizes.Walk(input.AsSpan(_end, got));
                _end += got;
            }
        }

        private (int Written, System.Buffers.OperationStatus Status) Decode(byte[] input, Span<byte> output)
        {
            System.Buffers.OperationStatus status;
            int consumed, written;
            try
            {
                // One frame at a time: given more, the decoder runs on into the next frame and its output mixes.
                var length = _end - _start;
                if (_sizes.CurrentFrameEnd is { } frameEnd) length = (int)Math.Min(length, frameEnd - _taken);
                status = _decoder.UnwrapStream(input.AsSpan(_start, length), output, out consumed, out written);
            }
            catch (ZstdException e)
            {
                throw new InvalidDataException("zstd: " + e.Message, e);
            }
            _start += consumed;
            _taken += consumed;
            _flush = status == System.Buffers.OperationStatus.DestinationTooSmall;
            switch (status)
            {
                case System.Buffers.OperationStatus.InvalidData:
                    throw new InvalidDataException("zstd: the compressed data is corrupt.");
                case System.Buffers.OperationStatus.Done:
                    _inFrame = false;
                    var frame = _frameDecoded + written;
                    _frameDecoded = 0;
                    if (_sizes.FrameEnded(frame) is { } mismatch) throw new InvalidDataException(mismatch);
                    return (written, status);
                default:
                    if (consumed > 0 || written > 0) _inFrame = true;
                    break;
            }
            _frameDecoded += written;
            return (written, status);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _input is { } input)
            {
                _input = null;
                _decoder.Dispose();
                System.Buffers.ArrayPool<byte>.Shared.Return(input);
            }
            base.Dispose(disposing);
        }
    }
}
