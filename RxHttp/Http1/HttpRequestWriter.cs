using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace RxHttp.Http1;

/// <summary>
/// Serialises a request head. Pure: writes into an <see cref="IBufferWriter{T}"/>, never to a socket,
/// so the connection can coalesce head and small bodies into one send.
/// </summary>
internal static class HttpRequestWriter
{
    /// <summary>The library's own User-Agent: the session default, and what a proxy's CONNECT (no session header reaches it) sends.</summary>
    public const string DefaultUserAgent = "RxHttp/0.1.0";

    private static ReadOnlySpan<byte> Http11Crlf => " HTTP/1.1\r\n"u8;
    private static ReadOnlySpan<byte> ColonSpace => ": "u8;
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    // The span overloads enumerate without boxing an enumerator (the exchange's path, once per request).
    public static void WriteHead(IBufferWriter<byte> writer, string method, string target, ReadOnlySpan<KeyValuePair<string, string>> headers)
    {
        WriteRequestLine(writer, method, target);
        foreach (var (name, value) in headers) WriteHeader(writer, name, value);
        writer.Write(Crlf);
    }

    /// <summary>Host first (RFC 9110 §7.2), then <paramref name="headers"/> without any Host of theirs.</summary>
    public static void WriteHead(IBufferWriter<byte> writer, string method, string target, string host, ReadOnlySpan<KeyValuePair<string, string>> headers)
    {
        WriteRequestLine(writer, method, target);
        WriteHeader(writer, "Host", host);
        foreach (var (name, value) in headers)
            if (!name.Equals("Host", StringComparison.OrdinalIgnoreCase)) WriteHeader(writer, name, value);
        writer.Write(Crlf);
    }

    public static void WriteHead(IBufferWriter<byte> writer, string method, string target, IEnumerable<KeyValuePair<string, string>> headers)
    {
        WriteRequestLine(writer, method, target);
        foreach (var (name, value) in headers) WriteHeader(writer, name, value);
        writer.Write(Crlf);
    }

    private static void WriteRequestLine(IBufferWriter<byte> writer, string method, string target)
    {
        WriteAscii(writer, method);
        writer.Write(" "u8);
        WriteUtf8(writer, target);
        writer.Write(Http11Crlf);
    }

    private static void WriteHeader(IBufferWriter<byte> writer, string name, string value)
    {
        WriteAscii(writer, name);
        writer.Write(ColonSpace);
        WriteUtf8(writer, value);
        writer.Write(Crlf);
    }

    /// <summary>The size line that precedes a chunk of <paramref name="length"/> bytes.</summary>
    public static void WriteChunkHeader(IBufferWriter<byte> writer, long length)
    {
        var span = writer.GetSpan(20);
        if (!Utf8Formatter.TryFormat(length, span, out var n, new StandardFormat('X'))) throw new InvalidOperationException();
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        writer.Advance(n);
    }

    public static ReadOnlySpan<byte> ChunkTrailer => "\r\n"u8;
    public static ReadOnlySpan<byte> LastChunk => "0\r\n\r\n"u8;

    private static void WriteAscii(IBufferWriter<byte> writer, string s)
    {
        var span = writer.GetSpan(s.Length);
        var n = Encoding.ASCII.GetBytes(s, span);
        writer.Advance(n);
    }

    private static void WriteUtf8(IBufferWriter<byte> writer, string s)
    {
        if (Ascii.IsValid(s))
        {
            WriteAscii(writer, s);
            return;
        }
        var span = writer.GetSpan(Encoding.UTF8.GetMaxByteCount(s.Length));
        writer.Advance(Encoding.UTF8.GetBytes(s, span));
    }
}

/// <summary>An <see cref="IBufferWriter{T}"/> on pooled arrays, reused across requests on one connection.</summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialCapacity = 1024) => _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);
    public int WrittenCount => _written;

    public void Clear() => _written = 0;

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 1;
        if (_buffer.Length - _written >= sizeHint) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + sizeHint));
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    /// <summary>Whether the writer still holds a rented buffer (tests).</summary>
    internal bool HoldsBuffer => _buffer.Length > 0;

    public void Dispose()
    {
        var b = Interlocked.Exchange(ref _buffer, Array.Empty<byte>());
        if (b.Length > 0) ArrayPool<byte>.Shared.Return(b);
        _written = 0;
    }
}
