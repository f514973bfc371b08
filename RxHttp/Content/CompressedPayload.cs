using System.IO.Compression;

namespace RxHttp;

/// <summary>
/// Compresses another payload on the fly for <see cref="RequestOptions.Compress"/>: "deflate" (zlib format, as
/// aiohttp's <c>compress=True</c>), "gzip", "br" or "zstd". The compressed length is unknown, so the body goes chunked.
/// </summary>
public sealed class CompressedPayload : Payload
{
    private readonly Payload _inner;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="encoding"/> is deflate, gzip (x-gzip), br or zstd.</summary>
    public CompressedPayload(Payload inner, string encoding = "deflate", CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Encoding = Normalize(encoding);
        _inner = inner;
        Level = level;
        ContentType = inner.ContentType;
    }

    /// <summary>The Content-Encoding token sent.</summary>
    public string Encoding { get; }

    /// <summary>The compression level.</summary>
    public CompressionLevel Level { get; }

    // A multipart part's "deflate" is raw deflate without the zlib wrapper: aiohttp writes and reads parts so
    // (wbits=-MAX_WBITS), unlike a whole body's.
    internal bool RawDeflate { get; init; }

    /// <inheritdoc />
    public override bool IsReplayable => _inner.IsReplayable;

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
    {
        var start = writer.BytesWritten;
        var sink = new WriterStream(writer, cancellationToken);
        var z = Create(sink);
        try
        {
            await _inner.WriteToAsync(new StreamPayloadWriter(z, writer.OnVirtualClock), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The body failed: the compressor's last block would end a body that is cut short anyway, and a write of it
            // that failed too (the connection is often why) would replace the payload's own exception.
            sink.Discarding = true;
            await z.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        await z.DisposeAsync().ConfigureAwait(false);
        // .NET's deflate and gzip encoders write nothing at all for an empty input, and no bytes are no zlib or gzip
        // stream (RFC 1950, 1952: a header, a last block, a checksum), which a strict decoder refuses; zlib's own
        // encoder (aiohttp's) sends the empty stream, as this does.
        if (writer.BytesWritten == start && (RawDeflate && Encoding == "deflate" ? EmptyRawDeflate : EmptyStream(Encoding)) is { } empty) await writer.WriteAsync(empty, cancellationToken).ConfigureAwait(false);
    }

    private static readonly byte[] EmptyRawDeflate = [0x03, 0x00];
    private static readonly byte[] EmptyZlib = [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
    private static readonly byte[] EmptyGzip = [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0xFF, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];

    private static byte[]? EmptyStream(string encoding) => encoding switch
    {
        "deflate" => EmptyZlib,
        "gzip" => EmptyGzip,
        _ => null,
    };

    internal static string Normalize(string encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        return encoding.Trim().ToLowerInvariant() switch
        {
            "deflate" => "deflate",
            "gzip" or "x-gzip" => "gzip",
            "br" => "br",
            "zstd" => "zstd",
            _ => throw new ArgumentException($"Cannot compress a request body with '{encoding}': use deflate, gzip, br or zstd.", nameof(encoding)),
        };
    }

    private Stream Create(Stream sink) => Encoding switch
    {
        "gzip" => new GZipStream(sink, Level, leaveOpen: true),
        "br" => new BrotliStream(sink, Level, leaveOpen: true),
        "zstd" => ZstdCoding.Encoder(sink, Level),
        _ when RawDeflate => new DeflateStream(sink, Level, leaveOpen: true),
        _ => new ZLibStream(sink, Level, leaveOpen: true),
    };

    /// <summary>Inner payload → compressor.</summary>
    private sealed class StreamPayloadWriter(Stream target, bool virtualClock) : PayloadWriter
    {
        internal override bool OnVirtualClock => virtualClock;

        private long _written;
        public override long BytesWritten => _written;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            _written += data.Length;
            await target.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Compressor → connection. The compressors only call the async members when used asynchronously.</summary>
    private sealed class WriterStream(PayloadWriter writer, CancellationToken ct) : Stream
    {
        /// <summary>Set once the body failed: what the compressor still flushes goes nowhere.</summary>
        public bool Discarding { get; set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => writer.BytesWritten; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        // Synchronous writes only happen if a compressor is disposed synchronously; block rather than lose bytes.
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (!Discarding) writer.WriteAsync(buffer.AsMemory(offset, count).ToArray(), ct).AsTask().GetAwaiter().GetResult();
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            Discarding ? ValueTask.CompletedTask : writer.WriteAsync(buffer, cancellationToken.CanBeCanceled ? cancellationToken : ct);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
