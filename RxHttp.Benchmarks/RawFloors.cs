using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace RxHttp.Benchmarks;

/// <summary>
/// The raw floors of rows 3r, 3t and 4: one kept-alive connection (plain or TLS) with hand-written requests and the
/// least parsing that finds the end of a Content-Length response, reading into one reused buffer. No HTTP client
/// on .NET sockets can move the same bytes faster.
/// </summary>
internal sealed class RawStreamClient : IAsyncDisposable
{
    private readonly Uri _base;
    private Socket? _socket;
    private Stream? _stream;
    private readonly byte[] _buffer = new byte[Measure.BorrowedChunkSize];

    public RawStreamClient(string httpBase) => _base = new Uri(httpBase);

    private async ValueTask<Stream> StreamAsync()
    {
        if (_stream is not null) return _stream;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await _socket.ConnectAsync(IPAddress.Parse(_base.Host), _base.Port).ConfigureAwait(false);
        Stream stream = new NetworkStream(_socket, ownsSocket: true);
        if (_base.Scheme == "https")
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = _base.Host,
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            }).ConfigureAwait(false);
            stream = ssl;
        }
        return _stream = stream;
    }

    /// <summary>GETs <paramref name="path"/> <paramref name="count"/> times; MB/s over the bodies.</summary>
    public async Task<double> DownloadsAsync(string path, int count, long expected)
    {
        var stream = await StreamAsync().ConfigureAwait(false);
        var request = Encoding.ASCII.GetBytes($"GET /{path} HTTP/1.1\r\nHost: {_base.Authority}\r\n\r\n");
        var sw = Stopwatch.StartNew();
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            await stream.WriteAsync(request).ConfigureAwait(false);
            var got = await ReadResponseAsync(stream).ConfigureAwait(false);
            if (got != expected) throw new InvalidOperationException($"raw: body of {got} bytes, expected {expected}");
            total += got;
        }
        return Measure.MBps(total, sw.Elapsed);
    }

    /// <summary>POSTs <paramref name="size"/> bytes in 64 KiB writes with a Content-Length; MB/s.</summary>
    public async Task<double> UploadAsync(long size)
    {
        var stream = await StreamAsync().ConfigureAwait(false);
        var head = Encoding.ASCII.GetBytes($"POST /upload HTTP/1.1\r\nHost: {_base.Authority}\r\nContent-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n");
        var sw = Stopwatch.StartNew();
        await stream.WriteAsync(head).ConfigureAwait(false);
        for (var left = size; left > 0; left -= Measure.ChunkSize)
            await stream.WriteAsync(Measure.UploadBlock.AsMemory(0, (int)Math.Min(Measure.ChunkSize, left))).ConfigureAwait(false);
        var answer = await ReadResponseAsync(stream).ConfigureAwait(false);
        var elapsed = sw.Elapsed;
        if (answer != size.ToString(CultureInfo.InvariantCulture).Length) throw new InvalidOperationException("raw upload: unexpected answer");
        return Measure.MBps(size, elapsed);
    }

    // Reads one response with a Content-Length body; returns the body's size.
    private async Task<long> ReadResponseAsync(Stream stream)
    {
        var have = 0;
        int end;
        while ((end = _buffer.AsSpan(0, have).IndexOf("\r\n\r\n"u8)) < 0)
        {
            var n = await stream.ReadAsync(_buffer.AsMemory(have)).ConfigureAwait(false);
            if (n == 0) throw new InvalidOperationException("server closed");
            have += n;
        }
        var head = _buffer.AsSpan(0, end);
        var i = head.IndexOf("\r\nContent-Length: "u8);
        if (i < 0) i = head.IndexOf("\r\ncontent-length: "u8);
        if (i < 0) throw new InvalidOperationException("no Content-Length");
        Utf8Parser.TryParse(head[(i + 18)..], out long length, out _);
        long body = have - (end + 4);
        while (body < length)
        {
            var n = await stream.ReadAsync(_buffer.AsMemory()).ConfigureAwait(false);
            if (n == 0) throw new InvalidOperationException("server closed");
            body += n;
        }
        if (body != length) throw new InvalidOperationException("raw client: a pipelined extra response");
        return length;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null) await _stream.DisposeAsync().ConfigureAwait(false);
        _socket?.Dispose();
    }
}
