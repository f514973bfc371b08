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

    public static Stream Decoder(Stream raw) => new DecodeErrors(raw);

    public static Stream Encoder(Stream sink, CompressionLevel level) => new CompressionStream(sink, level switch
    {
        CompressionLevel.NoCompression or CompressionLevel.Fastest => 1,
        CompressionLevel.SmallestSize => 19,
        _ => 3, // zstd's own default
    }, leaveOpen: true);

    // ZstdSharp reports corrupt input and oversized windows as ZstdException; the response turns
    // InvalidDataException into ClientPayloadError as for gzip, deflate and br.
    private sealed class DecodeErrors : ReadOnlyStreamBase
    {
        private readonly DecompressionStream _inner;

        public DecodeErrors(Stream raw)
        {
            _inner = new DecompressionStream(raw, leaveOpen: true);
            _inner.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, MaxWindowLog);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (ZstdException e)
            {
                throw new InvalidDataException("zstd: " + e.Message, e);
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("zstd: the body ended inside a frame.", e);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
