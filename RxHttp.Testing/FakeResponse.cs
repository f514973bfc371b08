using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace RxHttp.Testing;

/// <summary>How a scripted exchange fails, raised as a real socket would raise it.</summary>
public enum FakeFault
{
    /// <summary>No fault: the response is served.</summary>
    None,
    /// <summary>Connecting fails with <c>SocketException(ConnectionRefused)</c>: <see cref="ClientConnectorError"/>.</summary>
    ConnectionRefused,
    /// <summary>Resolving the host fails with <c>SocketException(HostNotFound)</c>: <see cref="ClientConnectorDnsError"/>.</summary>
    DnsFailure,
    /// <summary>The TLS handshake fails with <c>AuthenticationException</c>: <see cref="ClientSslError"/>.</summary>
    TlsFailure,
    /// <summary>Connecting never completes: only <c>SockConnect</c>, <c>Connect</c>, <c>Total</c> or disposing ends it.</summary>
    ConnectStall,
    /// <summary>The request is read and never answered: only a read or total timeout, or disposing, ends it.</summary>
    Stall,
    /// <summary>The connection is reset before any response byte (<c>SocketException(ConnectionReset)</c>).</summary>
    Reset,
}

/// <summary>
/// One scripted response: status, reason, headers and a body, rendered to real HTTP/1.1 bytes that RxHttp's parser reads.
/// A body given in slices (<see cref="Chunk(TimeSpan, string)"/>) is sent chunked, each slice at its virtual time after
/// the request arrived; <see cref="After"/> delays the head. Build one with <see cref="Status"/> or a fault factory.
/// </summary>
public sealed class FakeResponse
{
    private readonly List<KeyValuePair<string, string>> _headers = new();
    private readonly List<(TimeSpan At, byte[] Data)> _slices = new();
    private byte[] _body = Array.Empty<byte>();
    private bool _gzipped; // a body or slice given after Gzip() would go out uncompressed under Content-Encoding: gzip
    private byte[] _gzipTrailer = Array.Empty<byte>(); // ends the gzip stream with the body's last part, unless it never ends

    private FakeResponse(int status) => StatusCode = status;

    /// <summary>The status code.</summary>
    public int StatusCode { get; }

    /// <summary>The reason phrase (default: the standard one for the status).</summary>
    public string? ReasonPhrase { get; private set; }

    /// <summary>The fault this response stands for, if any.</summary>
    public FakeFault Fault { get; private init; }

    /// <summary>The headers, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => _headers;

    /// <summary>When the head is sent, after the request arrived.</summary>
    public TimeSpan HeadDelay { get; private set; }

    /// <summary>True when the body never ends (a stream that the client must dispose).</summary>
    public bool Endless { get; private set; }

    /// <summary>True when the connection is reset after the body slices instead of ending the body.</summary>
    public bool ResetsMidBody { get; private set; }

    /// <summary>True when the server closes the connection after this response.</summary>
    public bool ClosesConnection { get; private set; }

    internal byte[] Body => _slices.Count == 0 && !Endless ? [.. _body, .. _gzipTrailer] : _body;

    internal IReadOnlyList<(TimeSpan At, byte[] Data)> Slices
    {
        get
        {
            if (_slices.Count == 0 || Endless || _gzipTrailer.Length == 0) return _slices;
            var slices = _slices.ToList();
            slices[^1] = (slices[^1].At, [.. slices[^1].Data, .. _gzipTrailer]);
            return slices;
        }
    }
    internal bool Chunked => _slices.Count > 0 || Endless || ResetsMidBody;
    internal bool IsConnectFault => Fault is FakeFault.ConnectionRefused or FakeFault.DnsFailure or FakeFault.TlsFailure or FakeFault.ConnectStall;

    /// <summary>A response with <paramref name="status"/> (100–999) and an empty body.</summary>
    public static FakeResponse Status(int status = 200)
    {
        if (status is < 100 or > 999) throw new ArgumentOutOfRangeException(nameof(status), status, "An HTTP status has three digits (100–999).");
        return new FakeResponse(status);
    }

    /// <summary>A scripted fault instead of a response.</summary>
    public static FakeResponse Failing(FakeFault fault)
    {
        if (fault == FakeFault.None) throw new ArgumentException("FakeFault.None is not a fault; use FakeResponse.Status.", nameof(fault));
        return new FakeResponse(0) { Fault = fault };
    }

    /// <summary>A redirect to <paramref name="location"/> (resolved by the client against the request URL).</summary>
    public static FakeResponse Redirect(string location, int status = 302)
    {
        if (status is < 300 or > 399) throw new ArgumentOutOfRangeException(nameof(status), status, "A redirect status is 3xx.");
        return Status(status).Header("Location", location);
    }

    /// <summary>Sets the reason phrase.</summary>
    public FakeResponse Reason(string reason)
    {
        if (reason.Contains('\r') || reason.Contains('\n')) throw new ArgumentException("A reason phrase is one line.", nameof(reason));
        ReasonPhrase = reason;
        return this;
    }

    /// <summary>Adds a header (repeat it for several values).</summary>
    public FakeResponse Header(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if ((name + value).AsSpan().IndexOfAny("\r\n") >= 0) throw new ArgumentException("A header name or value cannot contain a line break.", nameof(value));
        if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{name} is set by the fake from the body it sends.", nameof(name));
        _headers.Add(new(name, value));
        return this;
    }

    /// <summary>Adds a <c>Set-Cookie</c> header, e.g. <c>"sid=1; Path=/; HttpOnly"</c>.</summary>
    public FakeResponse SetCookie(string cookie) => Header("Set-Cookie", cookie);

    /// <summary>The body as bytes, sent with a Content-Length.</summary>
    public FakeResponse Bytes(byte[] body, string contentType = "application/octet-stream")
    {
        ArgumentNullException.ThrowIfNull(body);
        ThrowIfGzipped();
        _body = body;
        return ContentType(contentType);
    }

    /// <summary>The body as UTF-8 text.</summary>
    public FakeResponse Text(string text, string contentType = "text/plain; charset=utf-8") => Bytes(Encoding.UTF8.GetBytes(text), contentType);

    /// <summary>The body as JSON (System.Text.Json, web defaults: camelCase).</summary>
    public FakeResponse Json(object? value) =>
        Bytes(JsonSerializer.SerializeToUtf8Bytes(value, value?.GetType() ?? typeof(object), JsonSerializerOptions.Web), "application/json; charset=utf-8");

    /// <summary>
    /// Compresses the body given so far, its slices included, with gzip and says so in <c>Content-Encoding</c>: one
    /// gzip stream, flushed at the end of each slice so that each one can be decoded at its virtual time, as a
    /// compressing server's stream would be. Call it after the body and its slices.
    /// </summary>
    public FakeResponse Gzip()
    {
        if (_gzipped) throw new InvalidOperationException("The body is already compressed.");
        using var ms = new MemoryStream();
        var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true);
        // Each part is what the stream produced by the end of its flush: a slice compressed on its own would end the
        // gzip stream, and one compressed only at the end would leave the earlier slices with nothing to decode.
        byte[] Next(byte[] data)
        {
            gz.Write(data);
            gz.Flush();
            var part = ms.ToArray();
            ms.SetLength(0);
            return part;
        }
        _body = Next(_body);
        for (var i = 0; i < _slices.Count; i++) _slices[i] = (_slices[i].At, Next(_slices[i].Data));
        gz.Dispose();
        _gzipTrailer = ms.ToArray();
        _gzipped = true;
        return Header("Content-Encoding", "gzip");
    }

    /// <summary>A slice of a chunked body, sent <paramref name="at"/> after the request arrived (virtual time).</summary>
    public FakeResponse Chunk(TimeSpan at, byte[] data)
    {
        if (at < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(at), at, "A slice cannot be sent before the request arrived.");
        if (_slices.Count > 0 && at < _slices[^1].At) throw new ArgumentException($"Slices are sent in order: {at} comes before the previous slice's {_slices[^1].At}.", nameof(at));
        if (at < HeadDelay) throw new ArgumentException($"A slice at {at} would come before the head at {HeadDelay}.", nameof(at));
        if (data.Length == 0) throw new ArgumentException("An empty slice would end a chunked body; leave it out.", nameof(data));
        ThrowIfGzipped();
        _slices.Add((at, data));
        return this;
    }

    /// <summary>A UTF-8 text slice of a chunked body, sent <paramref name="at"/> after the request arrived.</summary>
    public FakeResponse Chunk(TimeSpan at, string text) => Chunk(at, Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// A server-sent event as a slice of a <c>text/event-stream</c> body (the first one sets that Content-Type), sent
    /// <paramref name="at"/> after the request arrived: <paramref name="data"/> split into one <c>data</c> line per
    /// line, after an <c>event</c>, <c>id</c> and <c>retry</c> line when given. The stream ends after the last slice
    /// unless <see cref="NeverEnds"/>; a reconnecting client then asks again.
    /// </summary>
    public FakeResponse Event(TimeSpan at, string data, string? eventType = null, string? id = null, TimeSpan? retry = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if ((eventType + id).AsSpan().IndexOfAny("\r\n") >= 0) throw new ArgumentException("An event type or id is one line.", nameof(eventType));
        if (_slices.Count == 0) ContentType("text/event-stream");
        var text = new StringBuilder();
        if (eventType is not null) text.Append("event: ").Append(eventType).Append('\n');
        if (id is not null) text.Append("id: ").Append(id).Append('\n');
        if (retry is { } r) text.Append("retry: ").Append((long)r.TotalMilliseconds).Append('\n');
        foreach (var line in data.ReplaceLineEndings("\n").Split('\n')) text.Append("data: ").Append(line).Append('\n');
        return Chunk(at, text.Append('\n').ToString());
    }

    /// <summary>Sends the head <paramref name="delay"/> after the request arrived (virtual time).</summary>
    public FakeResponse After(TimeSpan delay)
    {
        if (delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delay), delay, "The head cannot come before the request.");
        if (_slices.Count > 0 && _slices[0].At < delay) throw new ArgumentException("The head must come before the first slice.", nameof(delay));
        HeadDelay = delay;
        return this;
    }

    /// <summary>The chunked body never ends after its slices: the client reads until it disposes or times out.</summary>
    public FakeResponse NeverEnds()
    {
        Endless = true;
        return this;
    }

    /// <summary>After its slices the connection is reset (<c>SocketException(ConnectionReset)</c>): a body cut mid-way.</summary>
    public FakeResponse ResetMidBody()
    {
        ResetsMidBody = true;
        return this;
    }

    /// <summary>Sends <c>Connection: close</c> and closes the connection after this response.</summary>
    public FakeResponse CloseConnection()
    {
        ClosesConnection = true;
        return Header("Connection", "close");
    }

    private void ThrowIfGzipped()
    {
        if (_gzipped) throw new InvalidOperationException("Gzip() compressed the body given before it: give the body and its slices first, then call Gzip().");
    }

    private FakeResponse ContentType(string contentType)
    {
        _headers.RemoveAll(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase));
        return Header("Content-Type", contentType);
    }

    /// <summary>The head as the wire carries it, with the body's framing.</summary>
    internal byte[] RenderHead()
    {
        var sb = new StringBuilder();
        sb.Append("HTTP/1.1 ").Append(StatusCode).Append(' ').Append(ReasonPhrase ?? ReasonPhrases.For(StatusCode)).Append("\r\n");
        foreach (var (k, v) in _headers) sb.Append(k).Append(": ").Append(v).Append("\r\n");
        var bodiless = StatusCode is < 200 or 204 or 304;
        if (Chunked && !bodiless) sb.Append("Transfer-Encoding: chunked\r\n");
        else if (!bodiless) sb.Append("Content-Length: ").Append(Body.Length).Append("\r\n");
        sb.Append("\r\n");
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    /// <inheritdoc />
    public override string ToString() => Fault != FakeFault.None ? Fault.ToString() : $"{StatusCode} {ReasonPhrase ?? ReasonPhrases.For(StatusCode)}";
}

internal static class ReasonPhrases
{
    public static string For(int status) => status switch
    {
        100 => "Continue", 101 => "Switching Protocols", 200 => "OK", 201 => "Created", 202 => "Accepted", 204 => "No Content",
        206 => "Partial Content", 301 => "Moved Permanently", 302 => "Found", 303 => "See Other", 304 => "Not Modified",
        307 => "Temporary Redirect", 308 => "Permanent Redirect", 400 => "Bad Request", 401 => "Unauthorized", 403 => "Forbidden",
        404 => "Not Found", 405 => "Method Not Allowed", 408 => "Request Timeout", 409 => "Conflict", 429 => "Too Many Requests",
        500 => "Internal Server Error", 502 => "Bad Gateway", 503 => "Service Unavailable", 504 => "Gateway Timeout",
        _ => "Status " + status,
    };
}
