using System.IO.Compression;

namespace RxHttp;

/// <summary>
/// Picks the decoders for a Content-Encoding: gzip, deflate, br and zstd, stacked codings undone last first
/// (RFC 9110 §8.4 lists them in the order they were applied), "identity" ignored. A coding it cannot undo gives a
/// body that fails with <see cref="ClientPayloadError"/> when read, rather than bytes that silently are not what
/// the headers say (turn AutoDecompress off to read them raw). The same decoders undo the transfer codings a
/// server applied besides chunked (RFC 9112 §7), which are part of the framing and so are undone whatever
/// AutoDecompress says.
/// </summary>
internal static class Decompression
{
    public const string AcceptEncoding = "gzip, deflate, br, zstd";

    public static Stream? Wrap(string? contentEncoding, Stream raw) => Wrap(contentEncoding, raw, transfer: false);

    /// <summary>
    /// The decoders for <paramref name="contentEncoding"/>; <paramref name="transfer"/>: they are Transfer-Encoding's, with the
    /// final chunked already taken off by the framing (a chunked elsewhere in the list cannot be undone here).
    /// </summary>
    public static Stream? Wrap(string? contentEncoding, Stream raw, bool transfer)
    {
        if (string.IsNullOrWhiteSpace(contentEncoding)) return null;
        var codings = contentEncoding.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Stream? decoded = null;
        for (var i = codings.Length - 1; i >= 0; i--)
        {
            var source = decoded ?? raw;
            decoded = codings[i].ToLowerInvariant() switch
            {
                "identity" => decoded,
                "gzip" or "x-gzip" => new GzipEndCheck(source),
                "deflate" => EndChecked.Over(source, static s => new ZlibOrRawDeflateStream(s)),
                "br" => EndChecked.Over(source, static s => new BrotliStream(s, CompressionMode.Decompress)),
                "zstd" => ZstdCoding.Decoder(source),
                _ => new Undecodable(contentEncoding, transfer),
            };
        }
        return decoded is null || ReferenceEquals(decoded, raw) ? decoded : new ToBodyEnd(decoded, raw);
    }

    /// <summary>
    /// A deflate, br or zstd decoder stops at the end of its compressed stream, which can come before the body's own
    /// end (a chunked body's last chunk is still unread). Reading the body on to its end is what returns the
    /// connection to the pool, so at the decoder's end this reads what is left: the framing's end, or bytes after the
    /// compressed stream, which are ignored as aiohttp ignores a decompressor's unused data, up to a bound past which
    /// the connection is closed instead.
    /// </summary>
    private sealed class ToBodyEnd(Stream decoded, Stream raw) : ReadOnlyStreamBase
    {
        private const int MaxTrailing = 64 * 1024;
        private bool _ended;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_ended) return 0;
            var n = await decoded.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n > 0 || buffer.IsEmpty) return n;
            _ended = true;
            var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                for (var skipped = 0; skipped < MaxTrailing;)
                {
                    var got = await raw.ReadAsync(scratch, cancellationToken).ConfigureAwait(false);
                    if (got == 0) break;
                    skipped += got;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
            }
            return 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) decoded.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// DeflateStream, ZLibStream and BrotliStream return 0 when their input ends before the compressed stream does
    /// (System.IO.Compression checks that only under a process-wide switch), so a body cut short inside its framing
    /// (a server that died mid-stream and closed a body without length, or sent the last chunk anyway) read as a
    /// shorter, complete one. Once finished, these decoders do not ask their input for more, so a decoder that ends
    /// after its input did, having had some, stopped inside its stream: that is an error, as aiohttp's "deflate"
    /// ContentEncodingError and zstd here. An empty body stays an empty body (aiohttp accepts it too). Not for gzip:
    /// GZipStream reads on past each member's end to look for another, finished or not (<see cref="GzipEndCheck"/>).
    /// </summary>
    private sealed class EndChecked : ReadOnlyStreamBase
    {
        private readonly Stream _decoder;
        private long _input;
        private bool _inputEnded;

        private EndChecked(Stream source, Func<Stream, Stream> decoder) => _decoder = decoder(new Watch(source, this));

        public static Stream Over(Stream source, Func<Stream, Stream> decoder) => new EndChecked(source, decoder);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await _decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0 && !buffer.IsEmpty && _inputEnded && _input > 0)
                throw new InvalidDataException("The body ends inside its compressed stream (truncated).");
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _decoder.Dispose();
            base.Dispose(disposing);
        }

        private sealed class Watch(Stream source, EndChecked owner) : ReadOnlyStreamBase
        {
            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                var n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                owner._input += n;
                if (n == 0 && !buffer.IsEmpty) owner._inputEnded = true;
                return n;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing) source.Dispose();
                base.Dispose(disposing);
            }
        }
    }

    private sealed class Undecodable(string codings, bool transfer) : ReadOnlyStreamBase
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(new ClientPayloadError(transfer
                ? $"Cannot decode a body with the transfer codings '{codings}' (RxHttp undoes chunked as the final one, gzip, deflate, br and zstd)."
                : $"Cannot decode a body with Content-Encoding '{codings}' (RxHttp decodes gzip, deflate, br and zstd); " +
                  "set AutoDecompress = false to read the encoded bytes."));
    }
}

/// <summary>
/// "deflate" on the wire is meant to be zlib (RFC 9110 §8.4.1.2) but many servers send raw deflate;
/// aiohttp accepts both, so the first two bytes decide.
/// </summary>
internal sealed class ZlibOrRawDeflateStream(Stream raw) : ReadOnlyStreamBase
{
    private Stream? _inner;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_inner is null)
        {
            var head = new byte[2];
            var got = 0;
            while (got < 2)
            {
                var n = await raw.ReadAsync(head.AsMemory(got), cancellationToken).ConfigureAwait(false);
                if (n == 0) break;
                got += n;
            }
            var isZlib = got == 2 && (head[0] & 0x0F) == 8 && (head[0] >> 4) <= 7 && ((head[0] << 8) | head[1]) % 31 == 0;
            var source = new Transport.PrefixedDuplexStream(head.AsMemory(0, got), raw, leaveOpen: true);
            _inner = isZlib ? new ZLibStream(source, CompressionMode.Decompress) : new DeflateStream(source, CompressionMode.Decompress);
        }
        return await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner?.Dispose();
            raw.Dispose();
        }
        base.Dispose(disposing);
    }
}
