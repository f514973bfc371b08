using BenchmarkDotNet.Attributes;
using RxHttp.WebSockets;

namespace RxHttp.Benchmarks.Micro;

/// <summary>The RFC 6455 codec: a 64-byte masked client frame out, a 64-byte server frame in, masking 64 KiB.</summary>
[MemoryDiagnoser]
public class WsCodecBenchmarks
{
    private readonly byte[] _payload = new byte[64];
    private readonly byte[] _frame = new byte[64 + WsFrameWriter.MaxHeaderSize];
    private readonly byte[] _serverFrame = new byte[66];
    private readonly byte[] _big = new byte[64 * 1024];
    private readonly byte[] _key = [0x12, 0x34, 0x56, 0x78];
    private readonly WsFrameReader _reader = new();

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_payload);
        WsFrameWriter.WriteFrame(_serverFrame, true, false, WsMsgType.Binary, _payload, default);
    }

    [Benchmark(Description = "write 64 B masked frame")]
    public int WriteFrame() => WsFrameWriter.WriteFrame(_frame, true, false, WsMsgType.Binary, _payload, _key);

    [Benchmark(Description = "read 64 B binary message")]
    public int ReadMessage()
    {
        _reader.TryRead(_serverFrame, out var consumed, out var message);
        return consumed + message!.Data.Length;
    }

    [Benchmark(Description = "mask 64 KiB")]
    public byte Mask()
    {
        WsMask.Apply(_big, _key);
        return _big[0];
    }

    [GlobalCleanup]
    public void Cleanup() => _reader.Dispose();
}
