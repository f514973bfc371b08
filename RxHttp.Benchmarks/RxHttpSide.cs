using System.Diagnostics;
using System.Globalization;
using System.Reactive.Linq;

namespace RxHttp.Benchmarks;

/// <summary>RxHttp, used the way its README shows: cold observables, <c>Read()</c>, the chunk observable.</summary>
internal sealed class RxHttpSide : IClientSide
{
    private readonly ClientSession _session;
    private readonly Url _hello, _big, _upload;

    private readonly Url? _ws;

    public RxHttpSide(string httpBase, string uploadBase, int poolSize, string? wsUrl = null, bool freshConnections = false, bool inlineCompletions = false)
    {
        _ws = wsUrl is null ? null : Url.Parse(wsUrl);
        _session = new ClientSession(new ClientSessionOptions
        {
            // Idle connections are kept as long as HttpClient keeps them (its default; RxHttp's is aiohttp's 15 s): a full
            // round takes ~20 s, and with 15 s every round's upload went out on a new connection, whose TCP buffers
            // start small (~12% slower on this loopback), while HttpClient's went out on its kept one.
            Connector = new TcpConnector(freshConnections
                ? new TcpConnectorOptions { Limit = poolSize, ForceClose = true, UnsafeInlineCompletions = inlineCompletions }
                : new TcpConnectorOptions { Limit = poolSize, KeepaliveTimeout = Measure.PoolIdleTimeout, UnsafeInlineCompletions = inlineCompletions }),
        });
        _hello = Url.Parse(httpBase + "hello");
        _big = Url.Parse(httpBase + "big");
        _upload = Url.Parse(uploadBase + "upload");
    }

    public string Name => "RxHttp";

    private static readonly RequestOptions Ok = new() { RaiseForStatus = true };

    internal async Task GetHelloAsync()
    {
        var body = await _session.Get(_hello, Ok).SelectMany(r => r.Read());
        if (body.Length != 13) throw new InvalidOperationException("unexpected body length " + body.Length);
    }

    public Task<double> SequentialAsync(TimeSpan duration) => Measure.TimedLoopAsync(duration, GetHelloAsync);

    public Task<double> ConcurrentAsync(TimeSpan duration, int workers) => Measure.ConcurrentLoopAsync(duration, workers, GetHelloAsync);

    public async Task<double> DownloadAsync(long expected, bool ownedChunks)
    {
        var sw = Stopwatch.StartNew();
        var response = await _session.Get(_big);
        if (response.Status != 200) throw new InvalidOperationException($"GET /big: {response.Status} {response.Reason}");
        var chunks = ownedChunks ? response.Content : response.BorrowedContent;
        var total = await chunks.Aggregate(0L, (sum, chunk) => sum + chunk.Length);
        var elapsed = sw.Elapsed;
        if (total != expected) throw new InvalidOperationException($"downloaded {total} of {expected} bytes");
        return Measure.MBps(total, elapsed);
    }

    public async Task<double> UploadAsync(long size)
    {
        var sw = Stopwatch.StartNew();
        var text = await _session.Post(_upload, new RequestOptions { Data = new BlockPayload(size), RaiseForStatus = true }).SelectMany(r => r.Text());
        var elapsed = sw.Elapsed;
        if (text != size.ToString(CultureInfo.InvariantCulture)) throw new InvalidOperationException("server received " + text);
        return Measure.MBps(size, elapsed);
    }

    public Task<double> AllocationsAsync(int requests) => Measure.AllocatedPerCallAsync(requests, GetHelloAsync);

    public async Task<double?> WebSocketEchoAsync(TimeSpan duration)
    {
        if (_ws is null) return null;
        await using var ws = await _session.WsConnectAsync(_ws).ConfigureAwait(false);
        var message = Measure.UploadBlock.AsMemory(0, 64);
        var rate = await Measure.TimedLoopAsync(duration, async () =>
        {
            await ws.SendBytes(message);
            var echo = await ws.ReceiveAsync().ConfigureAwait(false);
            if (echo.Data.Length != 64) throw new InvalidOperationException("echo of " + echo.Data.Length + " bytes");
        }).ConfigureAwait(false);
        await ws.Close();
        return rate;
    }

    public ValueTask DisposeAsync() => _session.DisposeAsync();

    /// <summary>A streamed body of known length, written in 64 KiB pieces from one shared block.</summary>
    private sealed class BlockPayload(long size) : Payload
    {
        public override long? Length => size;

        public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
        {
            for (var left = size; left > 0; left -= Measure.ChunkSize)
                await writer.WriteAsync(Measure.UploadBlock.AsMemory(0, (int)Math.Min(Measure.ChunkSize, left)), cancellationToken).ConfigureAwait(false);
        }
    }
}
