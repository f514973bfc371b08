using BenchmarkDotNet.Attributes;
using ZstdSharp;

namespace RxHttp.Benchmarks.Micro;

/// <summary>
/// Inflating a 4 MiB zstd body as a response does (<c>Decompression.Wrap</c>: the decompressor's streaming call, with
/// the frames' declared sizes walked and checked), against ZstdSharp's own DecompressionStream over the same bytes,
/// read 16 KiB at a time.
/// </summary>
[MemoryDiagnoser]
public class ZstdDecodeBenchmarks
{
    private byte[] _compressed = null!;
    private readonly byte[] _buffer = new byte[16 * 1024];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var words = Enumerable.Range(0, 512).Select(_ => new string(Enumerable.Range(0, random.Next(3, 10)).Select(_ => (char)random.Next('a', 'z' + 1)).ToArray())).ToArray();
        var text = new System.Text.StringBuilder();
        while (text.Length < 4 << 20) text.Append(words[random.Next(words.Length)]).Append(' ');
        using var compressor = new Compressor(3);
        _compressed = compressor.Wrap(System.Text.Encoding.ASCII.GetBytes(text.ToString())).ToArray();
    }

    [Benchmark(Baseline = true, Description = "ZstdSharp DecompressionStream")]
    public async Task<long> Library()
    {
        await using var d = new DecompressionStream(new MemoryStream(_compressed));
        return await Drain(d);
    }

    [Benchmark(Description = "Decompression.Wrap(\"zstd\")")]
    public async Task<long> AsResponses()
    {
        await using var d = Decompression.Wrap("zstd", new MemoryStream(_compressed))!;
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
