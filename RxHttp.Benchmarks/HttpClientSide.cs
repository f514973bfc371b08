using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;

namespace RxHttp.Benchmarks;

/// <summary>HttpClient on SocketsHttpHandler (and ClientWebSocket), used the way its docs show.</summary>
internal sealed class HttpClientSide : IClientSide
{
    private readonly HttpClient _client;
    private readonly Uri _hello, _big, _upload;
    private readonly Uri? _ws;

    public HttpClientSide(string httpBase, string uploadBase, string? wsUrl, int poolSize, bool freshConnections = false)
    {
        _client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = poolSize, UseCookies = false, PooledConnectionIdleTimeout = Measure.PoolIdleTimeout });
        if (freshConnections) _client.DefaultRequestHeaders.ConnectionClose = true;
        // The same request on the wire as RxHttp's defaults (aiohttp's: User-Agent, Accept, Accept-Encoding), so
        // the server does the same work for both; bare HttpClient sends only Host.
        _client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", new ClientSessionOptions().UserAgent);
        _client.DefaultRequestHeaders.TryAddWithoutValidation("Accept", "*/*");
        _client.DefaultRequestHeaders.TryAddWithoutValidation("Accept-Encoding", "gzip, deflate, br, zstd");
        _hello = new Uri(httpBase + "hello");
        _big = new Uri(httpBase + "big");
        _upload = new Uri(uploadBase + "upload");
        _ws = wsUrl is null ? null : new Uri(wsUrl);
    }

    public string Name => "HttpClient";

    internal async Task GetHelloAsync()
    {
        var body = await _client.GetByteArrayAsync(_hello).ConfigureAwait(false);
        if (body.Length != 13) throw new InvalidOperationException("unexpected body length " + body.Length);
    }

    public Task<double> SequentialAsync(TimeSpan duration) => Measure.TimedLoopAsync(duration, GetHelloAsync);

    public Task<double> ConcurrentAsync(TimeSpan duration, int workers) => Measure.ConcurrentLoopAsync(duration, workers, GetHelloAsync);

    public async Task<double> DownloadAsync(long expected, bool ownedChunks)
    {
        var sw = Stopwatch.StartNew();
        using var response = await _client.GetAsync(_big, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        // Reads of the size RxHttp's chunks have on each row: a fresh 64 KiB array per read, or one reused buffer as
        // large as BorrowedContent's (the same size on both sides, so the row compares transports, not buffer sizes).
        var buffer = new byte[ownedChunks ? Measure.ChunkSize : Measure.BorrowedChunkSize];
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            total += n;
            // What a reader that keeps each chunk (as RxHttp's Content) must do: a new array per read.
            if (ownedChunks) buffer = GC.AllocateUninitializedArray<byte>(Measure.ChunkSize);
        }
        var elapsed = sw.Elapsed;
        if (total != expected) throw new InvalidOperationException($"downloaded {total} of {expected} bytes");
        return Measure.MBps(total, elapsed);
    }

    public async Task<double> UploadAsync(long size)
    {
        var sw = Stopwatch.StartNew();
        using var response = await _client.PostAsync(_upload, new BlockContent(size)).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        var elapsed = sw.Elapsed;
        if (text != size.ToString(CultureInfo.InvariantCulture)) throw new InvalidOperationException("server received " + text);
        return Measure.MBps(size, elapsed);
    }

    public Task<double> AllocationsAsync(int requests) => Measure.AllocatedPerCallAsync(requests, GetHelloAsync);

    public async Task<double?> WebSocketEchoAsync(TimeSpan duration)
    {
        if (_ws is null) return null;
        using var ws = new System.Net.WebSockets.ClientWebSocket();
        await ws.ConnectAsync(_ws, CancellationToken.None).ConfigureAwait(false);
        var message = Measure.UploadBlock.AsMemory(0, 64);
        var buffer = new byte[1024];
        var rate = await Measure.TimedLoopAsync(duration, async () =>
        {
            await ws.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
            var got = 0;
            while (true)
            {
                var r = await ws.ReceiveAsync(buffer.AsMemory(got), CancellationToken.None).ConfigureAwait(false);
                got += r.Count;
                if (r.EndOfMessage) break;
            }
            if (got != 64) throw new InvalidOperationException("echo of " + got + " bytes");
        }).ConfigureAwait(false);
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
        return rate;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class BlockContent : HttpContent
    {
        private readonly long _size;

        public BlockContent(long size)
        {
            _size = size;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var left = _size; left > 0; left -= Measure.ChunkSize)
                await stream.WriteAsync(Measure.UploadBlock.AsMemory(0, (int)Math.Min(Measure.ChunkSize, left))).ConfigureAwait(false);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _size;
            return true;
        }
    }
}
