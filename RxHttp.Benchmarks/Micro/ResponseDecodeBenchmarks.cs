using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using ZstdSharp;

namespace RxHttp.Benchmarks.Micro;

/// <summary>
/// Inflating a 4 MiB body as a response does (<c>Decompression.Wrap</c>: gzip through <see cref="GzipMemberFeed"/>,
/// zstd through the decompressor's streaming call with the frames' declared sizes checked), against the coding's
/// own stream straight over the same bytes (GZipStream, ZstdSharp's DecompressionStream), read 16 KiB at a time.
/// </summary>
[MemoryDiagnoser]
public class ResponseDecodeBenchmarks
{
    private byte[] _compressed = null!;
    private readonly byte[] _buffer = new byte[16 * 1024];

    [Params("gzip", "zstd")]
    public string Coding { get; set; } = "gzip";

    [GlobalSetup]
    public void Setup()
    {
        // Text-like bytes that compress about 4:1, so the decoder does real work per input read.
        var random = new Random(1);
        var words = Enumerable.Range(0, 512).Select(_ => new string(Enumerable.Range(0, random.Next(3, 10)).Select(_ => (char)random.Next('a', 'z' + 1)).ToArray())).ToArray();
        var text = new System.Text.StringBuilder();
        while (text.Length < 4 << 20) text.Append(words[random.Next(words.Length)]).Append(' ');
        var plain = System.Text.Encoding.ASCII.GetBytes(text.ToString());
        if (Coding == "zstd")
        {
            using var compressor = new Compressor(3);
            _compressed = compressor.Wrap(plain).ToArray();
            return;
        }
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Optimal)) z.Write(plain);
        _compressed = ms.ToArray();
    }

    [Benchmark(Baseline = true, Description = "the coding's own stream")]
    public async Task<long> Direct()
    {
        await using Stream d = Coding == "zstd"
            ? new DecompressionStream(new MemoryStream(_compressed))
            : new GZipStream(new MemoryStream(_compressed), CompressionMode.Decompress);
        return await Drain(d);
    }

    [Benchmark(Description = "Decompression.Wrap")]
    public async Task<long> AsResponses()
    {
        await using var d = Decompression.Wrap(Coding, new MemoryStream(_compressed))!;
        return await Drain(d);
    }

    private async Task<long> Drain(Stream d)
    {
        long total = 0;
        int n;
        while ((n = await d.ReadAsync(_buffer)) > 0) total += n;
        return total;
    }
}
