using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RxHttp.Benchmarks;

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
