using System.IO.Compression;
using BenchmarkDotNet.Attributes;

namespace RxHttp.Benchmarks.Micro;

/// <summary>
/// Inflating a 4 MiB gzip body as a response does (<c>Decompression.Wrap</c>, whose gzip reads go through
/// <see cref="GzipMemberFeed"/>), against GZipStream straight over the same bytes, read 16 KiB at a time.
/// </summary>
[MemoryDiagnoser]
public class GzipDecodeBenchmarks
{
    private byte[] _compressed = null!;
    private readonly byte[] _buffer = new byte[16 * 1024];

    [GlobalSetup]
    public void Setup()
    {
        // Text-like bytes that compress about 4:1, so the decoder does real work per input read.
        var random = new Random(1);
        var words = Enumerable.Range(0, 512).Select(_ => new string(Enumerable.Range(0, random.Next(3, 10)).Select(_ => (char)random.Next('a', 'z' + 1)).ToArray())).ToArray();
        var text = new System.Text.StringBuilder();
        while (text.Length < 4 << 20) text.Append(words[random.Next(words.Length)]).Append(' ');
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Optimal)) z.Write(System.Text.Encoding.ASCII.GetBytes(text.ToString()));
        _compressed = ms.ToArray();
    }

    [Benchmark(Baseline = true, Description = "GZipStream over the body")]
    public async Task<long> Direct()
    {
        await using var d = new GZipStream(new MemoryStream(_compressed), CompressionMode.Decompress);
        return await Drain(d);
    }

    [Benchmark(Description = "Decompression.Wrap(\"gzip\")")]
    public async Task<long> AsResponses()
    {
        await using var d = Decompression.Wrap("gzip", new MemoryStream(_compressed))!;
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
