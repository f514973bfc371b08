using System.IO.Compression;

namespace RxHttp;

/// <summary>Picks the decoder for a Content-Encoding. Unknown or stacked encodings are left as they are.</summary>
internal static class Decompression
{
    public const string AcceptEncoding = "gzip, deflate, br";

    public static Stream? Wrap(string? contentEncoding, Stream raw)
    {
        if (string.IsNullOrWhiteSpace(contentEncoding)) return null;
        return contentEncoding.Trim().ToLowerInvariant() switch
        {
            "gzip" or "x-gzip" => new GZipStream(raw, CompressionMode.Decompress),
            "deflate" => new ZlibOrRawDeflateStream(raw),
            "br" => new BrotliStream(raw, CompressionMode.Decompress),
            _ => null,
        };
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
            var source = new PrefixedStream(head.AsMemory(0, got), raw);
            _inner = isZlib ? new ZLibStream(source, CompressionMode.Decompress) : new DeflateStream(source, CompressionMode.Decompress);
        }
        return await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest) : ReadOnlyStreamBase
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!prefix.IsEmpty)
            {
                var n = Math.Min(prefix.Length, buffer.Length);
                prefix[..n].CopyTo(buffer);
                prefix = prefix[n..];
                return n;
            }
            return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
    }
}
