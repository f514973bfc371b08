using System.IO.Compression;

namespace RxHttp.Fuzz.Targets;

/// <summary>
/// A Content-Encoding decoder as the response uses it (<c>Decompression.Wrap</c> over the raw body stream): the same
/// inflated bytes whether the compressed body arrives whole or in two pieces and whatever the read size, at most
/// <see cref="OutputCap"/> bytes taken per execution (a bomb in the input must not become an allocation).
/// </summary>
public sealed class DecompressionTarget(string coding) : FuzzTarget
{
    private const int OutputCap = 256 * 1024;
    private readonly byte[] _output = new byte[OutputCap + 16 * 1024];

    public override string Name => coding;

    // What the response surfaces: the decoders' own exceptions pass through the same translation as ClientResponse's.
    public override Type[] Allowed => [typeof(ClientPayloadError)];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        Encode(B("hello, world")), Encode([]), Encode(new byte[100_000]),
        Encode(Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray()),
        Encode(B("abc"))[..^3],
        .. coding is "gzip" or "zstd" ? [Encode(B("one")).Concat(Encode(B("two"))).ToArray()] : Array.Empty<byte[]>(),
        .. coding == "deflate" ? [Raw(B("raw deflate, no zlib header"))] : Array.Empty<byte[]>(),
    ];

    private byte[] Encode(byte[] data)
    {
        using var ms = new MemoryStream();
        using (Stream s = coding switch
        {
            "gzip" => new GZipStream(ms, CompressionLevel.Optimal),
            "deflate" => new ZLibStream(ms, CompressionLevel.Optimal),
            "zstd" => ZstdCoding.Encoder(ms, CompressionLevel.Optimal),
            _ => new BrotliStream(ms, CompressionLevel.Optimal),
        }) s.Write(data);
        return ms.ToArray();
    }

    private static byte[] Raw(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var s = new DeflateStream(ms, CompressionLevel.Optimal)) s.Write(data);
        return ms.ToArray();
    }

    protected override string Execute(byte[] input)
    {
        var whole = Outcome(() => Inflate(input, int.MaxValue, 16 * 1024));
        var k = input.Length / 2;
        Consistent(whole, Outcome(() => Inflate(input, k == 0 ? int.MaxValue : k, 7)), k);
        if (input.Length > 2) Consistent(whole, Outcome(() => Inflate(input, 1, 4096)), 1);
        return Signature(whole);
    }

    // What the driver keeps inputs by: the decoder's rejection with its message, or the order of magnitude of the
    // output. With only "ok", "capped" and "rejected" the corpus stayed at its seeds, and the mutations never went
    // past a few bytes' distance from them.
    private static string Signature(string outcome)
    {
        if (outcome.StartsWith("E:", StringComparison.Ordinal)) return outcome;
        var parts = outcome.Split(':');
        return parts[0] + ":" + System.Numerics.BitOperations.Log2(uint.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + 1);
    }

    // The same outcome, except that a run stopped at the output cap may meet a rejection the other run met: a
    // streaming decoder that has more input at hand reads further ahead before it flushes, so in a bomb whose later
    // bytes are invalid, it fails before any output with the whole body and only after megabytes with the first
    // piece alone (a brotli input decoded to the end failed both ways).
    private void Consistent(string whole, string split, int offset)
    {
        if (whole.StartsWith("capped:", StringComparison.Ordinal) && split.StartsWith("E:", StringComparison.Ordinal)) return;
        if (split.StartsWith("capped:", StringComparison.Ordinal) && whole.StartsWith("E:", StringComparison.Ordinal)) return;
        Same(whole, split, offset);
    }

    private string Inflate(byte[] input, int cut, int readSize)
    {
        try
        {
            return InflateCore(input, cut, readSize);
        }
        catch (Exception e) when (DecodeErrors.IsDecoderFailure(e))
        {
            throw DecodeErrors.Translate(coding, e);
        }
    }

    private string InflateCore(byte[] input, int cut, int readSize)
    {
        using var decoded = Decompression.Wrap(coding, new PiecewiseStream(input, [cut, int.MaxValue])) ?? throw new InvariantViolation($"no decoder for {coding}");
        var output = _output;
        var total = 0;
        while (total < OutputCap)
        {
            var n = decoded.ReadAsync(output.AsMemory(total, readSize)).AsTask().GetAwaiter().GetResult();
            if (n < 0 || n > readSize) throw new InvariantViolation($"read returned {n} for {readSize}");
            if (n == 0) break;
            total += n;
        }
        total = Math.Min(total, OutputCap);
        return $"{(total == OutputCap ? "capped" : "ok")}:{total}:{Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(output.AsSpan(0, total)))[..12]}";
    }
}
