using System.Text;
using BenchmarkDotNet.Attributes;
using RxHttp.WebSockets;

namespace RxHttp.Benchmarks.Micro;

/// <summary>
/// permessage-deflate (RFC 7692) on a 1 KiB JSON-like text message: compressing with and without context takeover
/// and with a small negotiated window, and inflating, the paths a compressed websocket takes per message.
/// </summary>
[MemoryDiagnoser]
public class WsDeflateBenchmarks
{
    private readonly byte[] _message = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 32).Select(i =>
        $"{{\"id\":{i},\"name\":\"item {i}\",\"price\":{i * 3.25},\"tags\":[\"a\",\"b\"]}},")))[..1024];
    private readonly WsByteBuffer _out = new(4096);
    private WsDeflater _takeover = null!;
    private WsDeflater _noTakeover = null!;
    private WsDeflater _smallWindow = null!;
    private WsInflater _inflater = null!;
    private byte[] _compressed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _takeover = new WsDeflater();
        _noTakeover = new WsDeflater(noContextTakeover: true);
        _smallWindow = new WsDeflater(windowBits: 10);
        _inflater = new WsInflater();
        // Self-contained (no history), so inflating it again and again is valid.
        using var once = new WsDeflater(noContextTakeover: true);
        once.CompressMessage(_message, _out);
        _compressed = _out.WrittenSpan.ToArray();
        _out.Clear();
    }

    [Benchmark(Description = "deflate 1 KiB, context takeover")]
    public int DeflateTakeover() => Compress(_takeover);

    [Benchmark(Description = "deflate 1 KiB, no_context_takeover")]
    public int DeflateNoTakeover() => Compress(_noTakeover);

    [Benchmark(Description = "deflate 1 KiB, client_max_window_bits=10")]
    public int DeflateSmallWindow() => Compress(_smallWindow);

    [Benchmark(Description = "inflate 1 KiB message")]
    public int Inflate()
    {
        _out.Clear();
        _inflater.Inflate(_compressed, _out, 0);
        _inflater.FinishMessage(_out, 0);
        return _out.Length;
    }

    private int Compress(WsDeflater deflater)
    {
        _out.Clear();
        deflater.CompressMessage(_message, _out);
        return _out.Length;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _takeover.Dispose();
        _noTakeover.Dispose();
        _smallWindow.Dispose();
        _inflater.Dispose();
        _out.Dispose();
    }
}
