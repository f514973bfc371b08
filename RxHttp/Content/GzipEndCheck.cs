using System.IO.Compression;

namespace RxHttp;

/// <summary>
/// The gzip decoder, failing a body that ends inside a member. GZipStream returns 0 when its input ends early
/// (System.IO.Compression checks that only under a process-wide switch), so a gzip body cut short inside its framing
/// (a server that died mid-stream and closed a body without length, or sent the last chunk anyway) read as a
/// shorter, complete one. The check the other decoders get (<c>Decompression.EndChecked</c>: the decoder asked its
/// input for more after it ended) cannot tell here, because GZipStream asks after every member whether another
/// follows. What tells is one probe byte (0x00) handed to it where the body ends: a decoder whose last member is
/// finished looks at it for another member's magic, takes it for trailing bytes that are no member, and ends
/// without reading on; one inside a member takes it as data, and then outputs something, fails, or asks for more.
/// Any of those is the truncation, and what it output from the probe is never handed out.
/// </summary>
internal sealed class GzipEndCheck : ReadOnlyStreamBase
{
    private readonly Feed _feed;
    private readonly GZipStream _decoder;

    public GzipEndCheck(Stream raw)
    {
        _feed = new Feed(new GzipMemberFeed(raw));
        _decoder = new GZipStream(_feed, CompressionMode.Decompress);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n;
        try
        {
            n = await _decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (_feed.Probed && DecodeErrors.IsDecoderFailure(e))
        {
            // Failing on the probe is failing on the body's end: it ended inside a member.
            throw Truncated();
        }
        if (_feed.Probed && (n > 0 || _feed.ProbeTaken)) throw Truncated();
        return n;
    }

    private static InvalidDataException Truncated() => new("The body ends inside its compressed stream (truncated).");

    protected override void Dispose(bool disposing)
    {
        if (disposing) _decoder.Dispose();
        base.Dispose(disposing);
    }

    private sealed class Feed(Stream raw) : ReadOnlyStreamBase
    {
        private long _input;

        /// <summary>The body has ended and the probe byte was handed out in its place.</summary>
        public bool Probed { get; private set; }

        /// <summary>The decoder asked for more after the probe, so it took the probe as data.</summary>
        public bool ProbeTaken { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Probed)
            {
                ProbeTaken = true;
                return 0;
            }
            var n = await raw.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _input += n;
            // An empty body stays an empty body (aiohttp accepts it too), so only a body that had bytes is probed.
            if (n > 0 || buffer.IsEmpty || _input == 0) return n;
            buffer.Span[0] = 0;
            Probed = true;
            return 1;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) raw.Dispose();
            base.Dispose(disposing);
        }
    }
}
