namespace RxHttp;

/// <summary>
/// The compressed bytes as GZipStream reads them, never ending a read with 0x1F before the body's end.
/// After a gzip member, GZipStream looks at the bytes left in its input: if they begin with the magic 0x1F 0x8B it
/// starts another member, otherwise it ignores them. With a single 0x1F left it cannot see the second byte and
/// starts a member anyway, so the same body decoded cleanly (trailing bytes ignored) or failed, depending on
/// where the network split it (found by the fuzzer's whole-versus-split check). Holding a read's trailing 0x1F
/// bytes back until the next read makes every split see what the whole body shows.
/// </summary>
internal sealed class GzipMemberFeed(Stream raw) : ReadOnlyStreamBase
{
    private const byte MagicFirst = 0x1F;
    private int _held; // 0x1F bytes held back from the end of earlier reads; they come before anything read next

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return 0;
        while (true)
        {
            if (_held >= buffer.Length)
            {
                // A run of 0x1F as long as the read (never in a gzip member's own bytes at GZipStream's 8 KiB reads):
                // handed out as it is.
                buffer.Span.Fill(MagicFirst);
                _held -= buffer.Length;
                return buffer.Length;
            }
            var held = _held;
            buffer.Span[..held].Fill(MagicFirst);
            var got = await raw.ReadAsync(buffer[held..], cancellationToken).ConfigureAwait(false);
            var n = held + got;
            _held = 0;
            // The body's end: what was held goes out now, as the whole body would end with it.
            if (got == 0) return n;
            // All of a run of 0x1F at the end is held back: the byte before the last may be one too.
            var run = n - buffer.Span[..n].TrimEnd(MagicFirst).Length;
            _held = run;
            if (run < n) return n - run;
            // Nothing but 0x1F so far: read on.
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) raw.Dispose();
        base.Dispose(disposing);
    }
}
