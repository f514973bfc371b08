using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace RxHttp.Benchmarks;

/// <summary>What a raw floor does with each body it reads (rows 3r and 3t).</summary>
internal enum RawBody
{
    /// <summary>Reads it into one reused buffer and drops it: nothing allocated (the floor).</summary>
    Reused,
    /// <summary>Hands out a fresh array of exactly the body's length: the least any API returning the bytes does.</summary>
    Fresh,
    /// <summary>Decodes it into a string (UTF-8), the only allocation: the least any API returning the text does.</summary>
    Text,
}

/// <summary>
/// The raw floors of rows 3r, 3t and 4: one kept-alive connection (plain or TLS) with hand-written requests and the
/// least parsing that finds the end of a response (a Content-Length, or the chunked framing), with nothing else
/// than what <see cref="RawBody"/> asks for. No HTTP client on .NET sockets can move the same bytes faster.
/// </summary>
internal sealed class RawStreamClient : IAsyncDisposable
{
    private readonly Uri _base;
    private Socket? _socket;
    private Stream? _stream;
    private readonly byte[] _buffer = new byte[Measure.BorrowedChunkSize];
    private int _start, _end; // the unread bytes of _buffer
    private byte[] _body = []; // reused: a chunked body gathered, or the bytes a string is decoded from

    /// <summary>The last body handed out (kept, so the work of making it cannot be skipped).</summary>
    public object? Last { get; private set; }

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

    /// <summary>GETs <paramref name="path"/> <paramref name="count"/> times, doing <paramref name="mode"/> with each body; MB/s over the bodies.</summary>
    public async Task<double> DownloadsAsync(string path, int count, long expected, RawBody mode = RawBody.Reused)
    {
        var stream = await StreamAsync().ConfigureAwait(false);
        var request = Encoding.ASCII.GetBytes($"GET /{path} HTTP/1.1\r\nHost: {_base.Authority}\r\n\r\n");
        var sw = Stopwatch.StartNew();
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            await stream.WriteAsync(request).ConfigureAwait(false);
            var got = await ReadResponseAsync(stream, mode).ConfigureAwait(false);
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
        var answer = await ReadResponseAsync(stream, RawBody.Reused).ConfigureAwait(false);
        var elapsed = sw.Elapsed;
        if (answer != size.ToString(CultureInfo.InvariantCulture).Length) throw new InvalidOperationException("raw upload: unexpected answer");
        return Measure.MBps(size, elapsed);
    }

    // Reads one response; returns the body's size. Responses are never pipelined, so the buffer starts empty.
    private async Task<long> ReadResponseAsync(Stream stream, RawBody mode)
    {
        _start = _end = 0;
        int headEnd;
        while ((headEnd = _buffer.AsSpan(0, _end).IndexOf("\r\n\r\n"u8)) < 0) await FillAsync(stream).ConfigureAwait(false);
        var head = _buffer.AsSpan(0, headEnd);
        _start = headEnd + 4;
        var i = head.IndexOf("\r\nContent-Length: "u8);
        if (i < 0) i = head.IndexOf("\r\ncontent-length: "u8);
        if (i >= 0)
        {
            Utf8Parser.TryParse(head[(i + 18)..], out long length, out _);
            return await ReadLengthAsync(stream, (int)length, mode).ConfigureAwait(false);
        }
        if (head.IndexOf("\r\nTransfer-Encoding: chunked"u8) < 0 && head.IndexOf("\r\ntransfer-encoding: chunked"u8) < 0)
            throw new InvalidOperationException("raw client: neither Content-Length nor chunked");
        return await ReadChunkedAsync(stream, mode).ConfigureAwait(false);
    }

    private async Task<long> ReadLengthAsync(Stream stream, int length, RawBody mode)
    {
        var ahead = _end - _start;
        if (ahead > length) throw new InvalidOperationException("raw client: a pipelined extra response");
        if (mode == RawBody.Reused)
        {
            long body = ahead;
            while (body < length) body += await ReadSomeAsync(stream, _buffer).ConfigureAwait(false);
            if (body != length) throw new InvalidOperationException("raw client: a pipelined extra response");
            return length;
        }
        // Straight from the socket into the body's own memory: the exact array handed out, or the bytes to decode.
        var target = mode == RawBody.Fresh ? GC.AllocateUninitializedArray<byte>(length) : BodyBuffer(length);
        _buffer.AsSpan(_start, ahead).CopyTo(target);
        for (var at = ahead; at < length;) at += await ReadSomeAsync(stream, target.AsMemory(at, length - at)).ConfigureAwait(false);
        Last = mode == RawBody.Fresh ? target : Encoding.UTF8.GetString(target, 0, length);
        return length;
    }

    // The chunked framing, parsed as little as it takes: hex size lines (extensions and trailers are not sent here).
    private async Task<long> ReadChunkedAsync(Stream stream, RawBody mode)
    {
        var total = 0;
        while (true)
        {
            int line;
            while ((line = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0) await FillAsync(stream).ConfigureAwait(false);
            if (!Utf8Parser.TryParse(_buffer.AsSpan(_start, line), out int size, out _, 'x')) throw new InvalidOperationException("raw client: bad chunk size");
            _start += line + 2;
            if (size == 0) break;
            var target = mode == RawBody.Reused ? null : BodyBuffer(total + size);
            for (var left = size; left > 0;)
            {
                int n;
                if (_start < _end)
                {
                    n = Math.Min(left, _end - _start);
                    if (target is not null) _buffer.AsSpan(_start, n).CopyTo(target.AsSpan(total));
                    _start += n;
                }
                else if (target is not null)
                {
                    // Nothing buffered: the chunk's data goes straight into the body.
                    n = await ReadSomeAsync(stream, target.AsMemory(total, left)).ConfigureAwait(false);
                }
                else
                {
                    _start = _end = 0;
                    await FillAsync(stream).ConfigureAwait(false);
                    continue;
                }
                left -= n;
                total += n;
            }
            while (_end - _start < 2) await FillAsync(stream).ConfigureAwait(false);
            _start += 2; // the CRLF after the data
        }
        while (_end - _start < 2) await FillAsync(stream).ConfigureAwait(false);
        _start += 2; // the empty trailer section
        if (mode == RawBody.Fresh) Last = _body.AsSpan(0, total).ToArray();
        else if (mode == RawBody.Text) Last = Encoding.UTF8.GetString(_body, 0, total);
        return total;
    }

    private byte[] BodyBuffer(int length)
    {
        if (_body.Length < length) Array.Resize(ref _body, Math.Max(length, _body.Length * 2));
        return _body;
    }

    // Reads more into _buffer after what it holds (moving the unread bytes to its start first).
    private async ValueTask FillAsync(Stream stream)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) throw new InvalidOperationException("raw client: a line longer than the buffer");
        _end += await ReadSomeAsync(stream, _buffer.AsMemory(_end)).ConfigureAwait(false);
    }

    private static async ValueTask<int> ReadSomeAsync(Stream stream, Memory<byte> into)
    {
        var n = await stream.ReadAsync(into).ConfigureAwait(false);
        return n == 0 ? throw new InvalidOperationException("server closed") : n;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null) await _stream.DisposeAsync().ConfigureAwait(false);
        _socket?.Dispose();
    }
}
