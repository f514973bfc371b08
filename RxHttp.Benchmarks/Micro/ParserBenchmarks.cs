using System.Text;
using BenchmarkDotNet.Attributes;
using RxHttp.Http1;

namespace RxHttp.Benchmarks.Micro;

/// <summary>The response head parser on a typical head, alone and with the header collection the exchange builds.</summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private static readonly byte[] Head = Encoding.ASCII.GetBytes(
        "HTTP/1.1 200 OK\r\n" +
        "Server: nginx/1.26.3\r\n" +
        "Date: Tue, 14 Oct 2025 09:12:44 GMT\r\n" +
        "Content-Type: application/json; charset=utf-8\r\n" +
        "Content-Length: 1234\r\n" +
        "Connection: keep-alive\r\n" +
        "Cache-Control: no-cache\r\n" +
        "ETag: \"5f3c-1a2b3c4d\"\r\n" +
        "Vary: Accept-Encoding\r\n" +
        "X-Request-Id: 7b1f0c2e-53c4-4a8e-9f55-0d3b7a0c9e11\r\n" +
        "\r\n");

    private readonly HttpParserLimits _limits = HttpParserLimits.Default;
    private readonly NullHandler _null = new();

    [Benchmark(Baseline = true, Description = "parse head, no-op handler")]
    public int ParseOnly()
    {
        HttpResponseParser.TryParseHead(Head, _null, _limits, out var consumed);
        return consumed;
    }

    [Benchmark(Description = "parse head into HeaderCollection")]
    public int ParseIntoHeaders()
    {
        var builder = new ResponseHeadBuilder();
        HttpResponseParser.TryParseHead(Head, builder, _limits, out var consumed);
        return consumed + builder.Headers.Count;
    }

    private readonly HeaderStringCache _cache = new();

    [Benchmark(Description = "parse head into HeaderCollection, keep-alive string cache")]
    public int ParseIntoHeadersCached()
    {
        var builder = new ResponseHeadBuilder(_cache);
        HttpResponseParser.TryParseHead(Head, builder, _limits, out var consumed);
        return consumed + builder.Headers.Count;
    }

    private sealed class NullHandler : IHttpResponseHeadHandler
    {
        public void OnStatusLine(int versionMajor, int versionMinor, int status, ReadOnlySpan<byte> reason) { }
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) { }
    }
}

/// <summary>The chunked decoder over a 64 KiB body in 4 KiB chunks, fed as one buffer and as 1500-byte segments.</summary>
[MemoryDiagnoser]
public class ChunkedBenchmarks
{
    private byte[] _body = [];

    [GlobalSetup]
    public void Setup()
    {
        var ms = new MemoryStream();
        var chunk = new byte[4096];
        for (var i = 0; i < 16; i++)
        {
            ms.Write(Encoding.ASCII.GetBytes("1000\r\n"));
            ms.Write(chunk);
            ms.Write("\r\n"u8);
        }
        ms.Write("0\r\n\r\n"u8);
        _body = ms.ToArray();
    }

    [Benchmark(Description = "chunked 64 KiB, one buffer")]
    public long DecodeWhole() => Decode(_body.Length);

    [Benchmark(Description = "chunked 64 KiB, 1500 B segments")]
    public long DecodeSegments() => Decode(1500);

    private long Decode(int segment)
    {
        var decoder = new ChunkedDecoder();
        long data = 0;
        int pos = 0, end = Math.Min(segment, _body.Length);
        while (true)
        {
            var status = decoder.Decode(_body.AsSpan(pos, end - pos), out var consumed, out _, out var length);
            pos += consumed;
            data += length;
            if (status == ChunkedStatus.Done) return data;
            if (status != ChunkedStatus.Data) end = Math.Min(end + segment, _body.Length);
        }
    }
}
