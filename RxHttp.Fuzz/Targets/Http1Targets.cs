using System.Text;
using RxHttp.Http1;

namespace RxHttp.Fuzz.Targets;

/// <summary>The response head parser: restartable, so a head fed as a prefix and then whole parses as the whole.</summary>
public sealed class HeadTarget : FuzzTarget
{
    public override string Name => "head";
    public override Type[] Allowed => [typeof(HttpParseException)];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
        B("HTTP/1.0 404 Not Found\r\nServer: x\r\n\r\n"),
        B("HTTP/1.1 204 \r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n"),
        B("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
        B("HTTP/1.1 301 Moved\nLocation: /x\n\n"),
        B("HTTP/1.1 200 OK\r\nSet-Cookie: a=b; Path=/\r\nSet-Cookie: c=d\r\nTransfer-Encoding: chunked\r\n\r\n"),
        B("HTTP/1.1 200 caf\u00e9\r\nX-Obs: \u00ff\u0080\r\n\r\n"),
    ];

    public override IReadOnlyList<byte[]> Tokens =>
        [B("\r\n"), B("\n"), B("\r"), B("HTTP/1.1 "), B("HTTP/1.0 "), B("HTTP/2 "), B(": "), B("\t"), B(" "), B("Content-Length: "), B("Transfer-Encoding: chunked"), B("\r\n\r\n")];

    protected override string Execute(byte[] input)
    {
        var whole = Outcome(() => Parse(input));
        foreach (var k in SplitPoints(input.Length))
        {
            // The connection calls the parser on what has arrived so far, then again from the same start with more.
            var prefix = Outcome(() => Parse(input[..k]));
            if (prefix == "more") continue;
            if (prefix.StartsWith("E:", StringComparison.Ordinal)) Same(whole.StartsWith("E:", StringComparison.Ordinal) ? prefix : whole, prefix, k);
            else Same(whole, prefix, k);
        }
        return whole.StartsWith("ok", StringComparison.Ordinal) ? "ok:" + whole.Count(c => c == '|') : whole;
    }

    private static string Parse(byte[] data)
    {
        var handler = new Recorder();
        if (!HttpResponseParser.TryParseHead(data, handler, HttpParserLimits.Default, out var consumed))
        {
            if (handler.Text.Length > 0) throw new InvariantViolation("the parser reported parts of an incomplete head");
            return "more";
        }
        if (consumed <= 0 || consumed > data.Length) throw new InvariantViolation($"consumed {consumed} of {data.Length}");
        return $"ok:{consumed}:{handler.Text}";
    }

    private sealed class Recorder : IHttpResponseHeadHandler
    {
        public readonly StringBuilder Text = new();
        public void OnStatusLine(int versionMajor, int versionMinor, int status, ReadOnlySpan<byte> reason) =>
            Text.Append($"{versionMajor}.{versionMinor} {status} [{Encoding.Latin1.GetString(reason)}]");
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            Text.Append($"|{Encoding.Latin1.GetString(name)}=[{Encoding.Latin1.GetString(value)}]");
    }
}

/// <summary>The chunked decoder: the same data, trailers and end whether the body arrives whole, in two pieces or byte by byte.</summary>
public sealed class ChunkedTarget : FuzzTarget
{
    public override string Name => "chunked";
    public override Type[] Allowed => [typeof(HttpParseException)];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        B("5\r\nhello\r\n0\r\n\r\n"),
        B("3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: v\r\n\r\nNEXT"),
        B("A \r\n0123456789\r\n0\r\n\r\n"),
        B("1;a=\"q;uo\\\"ted\"\r\nx\r\n0\r\n\r\n"),
        B("2\nab\n0\n\n"),
        B("0000000000000001\r\nz\r\n0\r\n\r\n"),
    ];

    public override IReadOnlyList<byte[]> Tokens => [B("\r\n"), B("\n"), B(";"), B("0\r\n\r\n"), B("ffffffff"), B(" "), B("\""), B("=")];

    protected override string Execute(byte[] input)
    {
        var whole = Outcome(() => Decode(input, [input.Length]));
        foreach (var k in SplitPoints(input.Length)) Same(whole, Outcome(() => Decode(input, [k, input.Length])), k);
        if (input.Length <= 256) Same(whole, Outcome(() => Decode(input, Enumerable.Range(1, input.Length).ToArray())), 1);
        return whole.Split('|')[0];
    }

    // Feeds input up to each cut in turn, as a connection buffer would, and describes everything decoded.
    private static string Decode(byte[] input, int[] cuts)
    {
        var decoder = new ChunkedDecoder(HttpParserLimits.Default);
        var data = new List<byte>();
        var from = 0;
        foreach (var cut in cuts)
        {
            var piece = input.AsSpan(from, cut - from);
            while (true)
            {
                var status = decoder.Decode(piece, out var consumed, out var offset, out var length);
                if (consumed < 0 || consumed > piece.Length) throw new InvariantViolation($"consumed {consumed} of {piece.Length}");
                if (status == ChunkedStatus.Data)
                {
                    if (length <= 0 && piece.Length > offset) throw new InvariantViolation("Data with no bytes");
                    data.AddRange(piece.Slice(offset, length).ToArray());
                    piece = piece[consumed..];
                    continue;
                }
                if (status == ChunkedStatus.Done)
                {
                    var leftover = input.Length - (cut - piece.Length + consumed);
                    var trailers = string.Join(",", decoder.Trailers.Select(t => t.Key + "=" + t.Value));
                    return $"done|{data.Count}|{Hash(data)}|{trailers}|{leftover}";
                }
                if (consumed != piece.Length) throw new InvariantViolation("NeedMoreData left input unconsumed");
                break;
            }
            from = cut;
        }
        return $"more|{data.Count}|{Hash(data)}";
    }

    private static string Hash(List<byte> data) => Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(data.ToArray()))[..12];
}

/// <summary>
/// Body framing (RFC 9112 §6.3) decided from a parsed head: the first input byte picks the request method and
/// status, the rest is header lines. Checks what must hold whatever the headers say.
/// </summary>
public sealed class FramingTarget : FuzzTarget
{
    private static readonly string[] Methods = ["GET", "HEAD", "POST", "CONNECT"];
    private static readonly int[] Statuses = [200, 204, 304, 101, 404, 199, 500, 205];

    public override string Name => "framing";
    public override Type[] Allowed => [typeof(HttpParseException)];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        B("\u0000Content-Length: 10\r\n"),
        B("\u0001Transfer-Encoding: chunked\r\n"),
        B("\u0002Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n"),
        B("\u0003Content-Length: 5, 5\r\nContent-Length: 5\r\n"),
        B("\u0008Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"),
        B("\u0010Connection: keep-alive\r\n"),
        B("\u0020Transfer-Encoding: chunked, identity\r\n"),
    ];

    public override IReadOnlyList<byte[]> Tokens =>
        [B("Content-Length: "), B("Transfer-Encoding: "), B("chunked"), B("identity"), B("gzip"), B(", "), B("\r\n"), B("Connection: "), B("close"), B("keep-alive"), B("upgrade")];

    protected override string Execute(byte[] input)
    {
        if (input.Length == 0) return "empty";
        var method = Methods[input[0] % Methods.Length];
        var status = Statuses[(input[0] >> 2) % Statuses.Length];
        var head = B($"HTTP/1.{input[0] >> 7} {status} X\r\n").Concat(input.Skip(1)).Concat(B("\r\n\r\n")).ToArray();
        var headers = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var handler = new Collector(headers);
        if (!HttpResponseParser.TryParseHead(head, handler, HttpParserLimits.Default, out _)) return "more";
        var te = headers.GetValueOrDefault("Transfer-Encoding") ?? [];
        var cl = headers.GetValueOrDefault("Content-Length") ?? [];
        var framing = HttpFraming.Decide(method, status, te, cl, out var length);
        var keepAlive = HttpFraming.IsKeepAlive(1, input[0] >> 7, headers.GetValueOrDefault("Connection") ?? []);
        if (framing == BodyFraming.ContentLength && length < 0) throw new InvariantViolation($"negative length {length}");
        if ((method == "HEAD" || status is 204 or 304) && framing != BodyFraming.None) throw new InvariantViolation($"{method} {status} framed as {framing}");
        if (framing == BodyFraming.Chunked && te.Count == 0) throw new InvariantViolation("chunked without Transfer-Encoding");
        // The codings left for the body's decoders: never chunked last when the framing took it, never empty.
        var codings = framing is BodyFraming.Chunked or BodyFraming.UntilClose && te.Count > 0 ? HttpFraming.TransferCodings(te) : null;
        if (codings is { Length: 0 }) throw new InvariantViolation("empty transfer codings");
        if (framing == BodyFraming.Chunked && codings is not null && codings.Split(',')[^1].Trim().Equals("chunked", StringComparison.OrdinalIgnoreCase))
            throw new InvariantViolation($"chunked framing left chunked in '{codings}'");
        return $"{framing}:{keepAlive}:{codings}";
    }

    private sealed class Collector(Dictionary<string, List<string>> headers) : IHttpResponseHeadHandler
    {
        public void OnStatusLine(int versionMajor, int versionMinor, int status, ReadOnlySpan<byte> reason) { }
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            var key = Encoding.Latin1.GetString(name);
            if (!headers.TryGetValue(key, out var list)) headers[key] = list = [];
            list.Add(Encoding.Latin1.GetString(value));
        }
    }
}
