using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Reactive.Linq;
using System.Text;

namespace RxHttp.Benchmarks;

/// <summary>What one side measures. Every method runs one measurement and returns its figure.</summary>
internal interface IClientSide : IAsyncDisposable
{
    string Name { get; }
    Task<double> SequentialAsync(TimeSpan duration);
    Task<double> ConcurrentAsync(TimeSpan duration, int workers);
    /// <summary>
    /// MB/s of a streamed download. <paramref name="ownedChunks"/>: every chunk is memory the reader may keep (a fresh
    /// array per chunk or read); else chunks are borrowed from one reused buffer.
    /// </summary>
    Task<double> DownloadAsync(long expected, bool ownedChunks);
    Task<double> UploadAsync(long size);
    /// <summary>Bytes allocated in the whole process per sequential request (server allocations included).</summary>
    Task<double> AllocationsAsync(int requests);
    /// <summary>Messages per second, or null when this side has no websocket client yet.</summary>
    Task<double?> WebSocketEchoAsync(TimeSpan duration);
}

internal static class Measure
{
    public const int ChunkSize = 64 * 1024;

    /// <summary>How long both clients' pools keep an idle connection: HttpClient's default, set on both sides.</summary>
    public static readonly TimeSpan PoolIdleTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The size of RxHttp's <c>BorrowedContent</c> chunks, which the other clients' reused buffers match.</summary>
    public const int BorrowedChunkSize = ClientResponse.BorrowedChunkSize;

    // Shared upload source: both clients send the same bytes from the same buffer, so neither pays to produce data.
    public static readonly byte[] UploadBlock = CreateBlock();

    private static byte[] CreateBlock()
    {
        var b = new byte[ChunkSize];
        new Random(7).NextBytes(b);
        return b;
    }

    /// <summary>Whether <see cref="BetweenSides"/> collects (the run's <c>--gc-between</c>).</summary>
    public static bool CollectBetweenSides { get; set; }

    /// <summary>
    /// Before each side's turn in a round: a blocking full collection, so no side inherits the garbage of the side
    /// before it (a 256 MiB transfer through fresh arrays leaves hundreds of MiB, and the 1 MiB bodies of 3r land
    /// on the large-object heap, whose budget brings full collections to whichever side happens to cross it).
    /// </summary>
    public static void BetweenSides()
    {
        if (CollectBetweenSides) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
    }

    /// <summary>
    /// One round of interleaved sides: <paramref name="slices"/> passes over the <paramref name="sides"/>, the order
    /// reversed from one pass to the next and between rounds (A B C, then C B A), so each side goes before each other
    /// side equally often; returns the mean figure per side.
    /// </summary>
    public static async Task<double[]> AlternatingAsync(int sides, int slices, int round, Func<int, Task<double>> run)
    {
        var sums = new double[sides];
        for (var i = 0; i < slices; i++)
        {
            for (var k = 0; k < sides; k++)
            {
                var j = (round + i) % 2 == 1 ? sides - 1 - k : k;
                BetweenSides();
                sums[j] += await run(j).ConfigureAwait(false);
            }
        }
        for (var j = 0; j < sides; j++) sums[j] /= slices;
        return sums;
    }

    public static double MBps(long bytes, TimeSpan elapsed) => bytes / elapsed.TotalSeconds / 1e6;

    public static async Task<double> TimedLoopAsync(TimeSpan duration, Func<Task> one)
    {
        var sw = Stopwatch.StartNew();
        long n = 0;
        while (sw.Elapsed < duration)
        {
            await one().ConfigureAwait(false);
            n++;
        }
        return n / sw.Elapsed.TotalSeconds;
    }

    public static async Task<double> ConcurrentLoopAsync(TimeSpan duration, int workers, Func<Task> one)
    {
        long n = 0;
        var sw = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (sw.Elapsed < duration)
            {
                await one().ConfigureAwait(false);
                Interlocked.Increment(ref n);
            }
        })).ToArray();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return Interlocked.Read(ref n) / sw.Elapsed.TotalSeconds;
    }

    public static async Task<double> AllocatedPerCallAsync(int count, Func<Task> one)
    {
        // Settle first so a collection in the middle does not matter: allocation counters are cumulative anyway.
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < count; i++) await one().ConfigureAwait(false);
        var after = GC.GetTotalAllocatedBytes(precise: true);
        return (after - before) / (double)count;
    }
}

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

/// <summary>
/// A hand-written keep-alive GET loop with pre-encoded bytes and no per-request allocation. It measures what the
/// in-process server itself allocates per request, so that share can be taken out of both clients' figures.
/// </summary>
internal sealed class RawBaseline : IDisposable
{
    private Socket _socket;
    private readonly Uri _uri;
    private readonly byte[] _request;
    private readonly string _authority;
    private readonly byte[] _buffer = new byte[16 * 1024];

    public RawBaseline(string httpBase, bool fullHeaders = false)
    {
        var uri = _uri = new Uri(httpBase);
        _socket = Connect(uri);
        _authority = uri.Authority;
        _request = Encoding.ASCII.GetBytes(fullHeaders
            ? $"GET /hello HTTP/1.1\r\nHost: {_authority}\r\nUser-Agent: {new ClientSessionOptions().UserAgent}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n\r\n"
            : $"GET /hello HTTP/1.1\r\nHost: {_authority}\r\n\r\n");
    }

    private static Socket Connect(Uri uri)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(IPAddress.Parse(uri.Host), uri.Port);
        return socket;
    }

    /// <summary>Times the server closed an idle connection of this client, which then reconnected.</summary>
    public int Reconnects { get; private set; }

    public async Task GetAsync()
    {
        await _socket.SendAsync(_request.AsMemory(), SocketFlags.None).ConfigureAwait(false);
        var have = 0;
        while (true)
        {
            var n = await _socket.ReceiveAsync(_buffer.AsMemory(have), SocketFlags.None).ConfigureAwait(false);
            if (n == 0 && have == 0 && Reconnects < 100)
            {
                // nginx closes a connection that has not sent its first request within client_header_timeout (60 s),
                // and RawSide opens its 64 up front: a run of --only 1 reached one of them after 65 s. Reconnect and
                // resend, as every keep-alive client does with a connection the server closed while it was idle.
                _socket.Dispose();
                _socket = Connect(_uri);
                Reconnects++;
                await _socket.SendAsync(_request.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                continue;
            }
            if (n == 0) throw new InvalidOperationException("server closed");
            have += n;
            var end = _buffer.AsSpan(0, have).IndexOf("\r\n\r\n"u8);
            if (end < 0) continue;
            if (have >= end + 4 + ContentLength(_buffer.AsSpan(0, end))) return;
        }
    }

    private byte[]? _downloadBuffer;

    /// <summary>
    /// GETs <paramref name="path"/> (a Content-Length body) and reads it through; returns the body size.
    /// <paramref name="freshChunks"/>: every read goes into a fresh 64 KiB array (what a reader handed chunks it may
    /// keep costs at least); else into one reused buffer the size of BorrowedContent's chunks.
    /// </summary>
    public async Task<long> DownloadAsync(string path, bool freshChunks = false)
    {
        var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {_authority}\r\n\r\n");
        await _socket.SendAsync(request.AsMemory(), SocketFlags.None).ConfigureAwait(false);
        var buffer = _downloadBuffer ??= new byte[Measure.BorrowedChunkSize];
        var have = 0;
        int end;
        while ((end = buffer.AsSpan(0, have).IndexOf("\r\n\r\n"u8)) < 0)
        {
            var n = await _socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None).ConfigureAwait(false);
            if (n == 0) throw new InvalidOperationException("server closed");
            have += n;
        }
        long length = ContentLength(buffer.AsSpan(0, end));
        long body = have - (end + 4);
        while (body < length)
        {
            var into = freshChunks ? GC.AllocateUninitializedArray<byte>(Measure.ChunkSize) : buffer;
            var n = await _socket.ReceiveAsync(into.AsMemory(), SocketFlags.None).ConfigureAwait(false);
            if (n == 0) throw new InvalidOperationException("server closed");
            body += n;
        }
        return body;
    }

    private static long ContentLength(ReadOnlySpan<byte> head)
    {
        var i = head.IndexOf("\r\nContent-Length: "u8);
        if (i < 0) i = head.IndexOf("\r\ncontent-length: "u8);
        if (i < 0) throw new InvalidOperationException("no Content-Length");
        Utf8Parser.TryParse(head[(i + 18)..], out long length, out _);
        return length;
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>
/// The floor of any client on .NET sockets: <see cref="RawBaseline"/> connections (a fixed request and the least
/// parsing that finds the end of the response), one per worker, with no pool, timeouts, headers or API. Neither
/// HTTP client can beat it, so its ratio to HttpClient is the most any client could show on this machine.
/// </summary>
internal sealed class RawSide(string httpBase, string bigBase, int connections) : IClientSide
{
    private readonly System.Collections.Concurrent.ConcurrentBag<RawBaseline> _idle = new(Enumerable.Range(0, connections).Select(_ => new RawBaseline(httpBase, fullHeaders: true)));
    // The floor sends the same request bytes as both clients (RxHttp's default User-Agent, Accept and Accept-Encoding,
    // which HttpClient is given too): with a bare Host-only request nginx parsed three headers fewer per request for
    // the floor alone, which put it 3-5% further ahead (raw/HttpClient 1.12-1.16 against 1.08-1.09).

    public string Name => "raw socket";

    /// <summary>One GET on an idle raw connection, given back after (also row 2r″'s requests, <see cref="RawMergeShape"/>).</summary>
    public async Task OneAsync()
    {
        if (!_idle.TryTake(out var c)) throw new InvalidOperationException("more workers than raw connections");
        await c.GetAsync().ConfigureAwait(false);
        _idle.Add(c);
    }

    public Task<double> SequentialAsync(TimeSpan duration) => Measure.TimedLoopAsync(duration, OneAsync);

    public Task<double> ConcurrentAsync(TimeSpan duration, int workers) => Measure.ConcurrentLoopAsync(duration, workers, OneAsync);

    // Kept open between downloads, as the clients' pools keep theirs: a new connection each time starts with a cold
    // TCP receive window and made this "floor" slower than the clients it is meant to bound.
    private RawBaseline? _download;

    /// <summary>
    /// GET /big on a kept-alive connection, read into one reused buffer the size of BorrowedContent's chunks (no
    /// chunk handed anywhere), or with <paramref name="ownedChunks"/> into a fresh 64 KiB array per read.
    /// </summary>
    public async Task<double> DownloadAsync(long expected, bool ownedChunks)
    {
        var c = _download ??= new RawBaseline(bigBase);
        var sw = Stopwatch.StartNew();
        var total = await c.DownloadAsync("/big", ownedChunks).ConfigureAwait(false);
        var elapsed = sw.Elapsed;
        if (total != expected) throw new InvalidOperationException($"downloaded {total} of {expected} bytes");
        return Measure.MBps(total, elapsed);
    }

    public Task<double> UploadAsync(long size) => throw new NotSupportedException();

    public Task<double> AllocationsAsync(int requests) => Measure.AllocatedPerCallAsync(requests, OneAsync);

    public Task<double?> WebSocketEchoAsync(TimeSpan duration) => Task.FromResult<double?>(null);

    public ValueTask DisposeAsync()
    {
        foreach (var c in _idle) c.Dispose();
        _download?.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>curl on the same URL: the ceiling for a single stream on this machine.</summary>
internal static class Curl
{
    public static bool Available => File.Exists("/usr/bin/curl") || File.Exists("/usr/local/bin/curl");

    public static Task<double> DownloadAsync(string url) => RunAsync(["-s", "-o", "/dev/null", "-w", "%{speed_download}", url]);

    public static Task<double> UploadAsync(string url, string file) =>
        RunAsync(["-s", "-o", "/dev/null", "-X", "POST", "-H", "Expect:", "-H", "Content-Type: application/octet-stream", "-T", file, "-w", "%{speed_upload}", url]);

    private static async Task<double> RunAsync(string[] args)
    {
        var psi = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await p.WaitForExitAsync().ConfigureAwait(false);
        if (p.ExitCode != 0) throw new InvalidOperationException($"curl exited with {p.ExitCode}: {await p.StandardError.ReadToEndAsync().ConfigureAwait(false)}");
        return double.Parse(output.Trim(), CultureInfo.InvariantCulture) / 1e6;
    }
}
