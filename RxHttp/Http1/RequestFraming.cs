using System.Globalization;

namespace RxHttp.Http1;

/// <summary>How a request's body is delimited on the wire.</summary>
internal enum RequestBodyFraming : byte
{
    /// <summary>No body follows the head.</summary>
    None,
    ContentLength,
    Chunked,
}

/// <summary>How the head and the body leave: what the writer does after the framing is decided.</summary>
internal enum RequestSend : byte
{
    /// <summary>The head alone: there is no body, or it waits for 100 Continue.</summary>
    HeadOnly,

    /// <summary>Head and a small in-memory body in one write (one syscall, one TCP segment for most API calls).</summary>
    HeadWithBody,

    /// <summary>The head, then the body as the payload writes it (its first small write still joins the head).</summary>
    HeadThenBody,
}

/// <summary>
/// What the head's headers need for the framing decided, as edits to a copy of the caller's headers: a caller's
/// Content-Length dropped when the body goes chunked (RFC 9112 §6.2: never both), <c>Transfer-Encoding: chunked</c>,
/// <c>Content-Length</c> with the declared length, or <c>Expect: 100-continue</c> added.
/// </summary>
[Flags]
internal enum FramingHeaders : byte { None = 0, RemoveContentLength = 1, AddChunked = 2, AddContentLength = 4, AddExpect = 8 }

/// <summary>
/// How a request head frames its body (RFC 9112 §6, RFC 9110 §8.6 and §10.1.1) and what the head's headers need for
/// it: decided once from the request, before a byte is written. Pure, as <see cref="HttpFraming.Decide"/> is for
/// responses; the exchange applies it to the headers it sends (<see cref="ApplyTo"/>).
/// </summary>
/// <param name="Body">
/// How the body is delimited; <see cref="RequestBodyFraming.None"/> when there is none, unless the caller's own
/// <c>Transfer-Encoding: chunked</c> frames the empty body (<see cref="RequestBodyFraming.Chunked"/>: its last chunk follows the head).
/// </param>
/// <param name="DeclaredLength">
/// What the body is held to: the Content-Length the head sends (the body's own length or the caller's header), 0 for
/// the <c>Content-Length: 0</c> of a bodiless request (or the caller's own, which the empty body cannot meet if it is more), or null when nothing is checked (chunked, no Content-Length,
/// or a caller's Content-Length that is not a number, which is sent as it is).
/// </param>
/// <param name="Headers">The edits the caller's headers need.</param>
/// <param name="HeadersAsGiven">The request's own headers go out as they are, with only Host before them (no edits, no absolute form).</param>
/// <param name="HoldBody">The body waits for the server's 100 Continue (or is never sent, if a final answer comes first).</param>
/// <param name="AbsoluteForm">The request target is the absolute URL (RFC 9112 §3.2.2): plain HTTP through a proxy.</param>
/// <param name="Send">How the head and the body leave.</param>
internal readonly record struct RequestFraming(RequestBodyFraming Body, long? DeclaredLength, FramingHeaders Headers, bool HeadersAsGiven,
    bool HoldBody, bool AbsoluteForm, RequestSend Send)
{
    /// <summary>A body this small goes out in one write with its head.</summary>
    public const int SmallBody = 16 * 1024;

    /// <summary>
    /// Decides the framing of a request. <paramref name="headers"/> are the caller's (a Host among them plays no
    /// part); <paramref name="bodyLength"/> is the payload's length when it knows it, and <paramref name="bodyInMemory"/>
    /// says the payload is one buffer of that length that can be copied behind the head.
    /// </summary>
    public static RequestFraming Decide(string method, HeaderCollection headers, bool hasBody, long? bodyLength, bool bodyInMemory,
        bool chunkedRequested, bool expect100Requested, bool absoluteForm)
    {
        if (!hasBody)
        {
            // RFC 9110 §8.6: no Content-Length on a bodiless request whose method gives a body no meaning, nor on one
            // whose caller framed it already; anything else (a bodiless POST) says "0" so the server does not wait.
            var unframed = BodilessNeedsNoLength(method, headers);
            // A caller's own framing is kept, and is what the empty body is held to: its chunked gets its last chunk
            // (the server reads chunks until then), its Content-Length is checked by the sender before a byte goes out.
            var callerChunked = headers.Get("Transfer-Encoding") is { } callerTe && callerTe.Contains("chunked", StringComparison.OrdinalIgnoreCase);
            long? callerLength = !callerChunked && headers.Get("Content-Length") is { } cl
                && long.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            return new RequestFraming(callerChunked ? RequestBodyFraming.Chunked : RequestBodyFraming.None, unframed ? callerLength : 0,
                unframed ? FramingHeaders.None : FramingHeaders.AddContentLength,
                HeadersAsGiven: unframed && !absoluteForm, HoldBody: false, absoluteForm, RequestSend.HeadOnly);
        }

        RequestBodyFraming body;
        long? declared = null;
        var edits = FramingHeaders.None;
        // As aiohttp: a caller's Transfer-Encoding naming chunked is honoured as it is (any "chunked" in it counts).
        if (headers.Get("Transfer-Encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = RequestBodyFraming.Chunked;
            edits = FramingHeaders.RemoveContentLength;
        }
        else if (chunkedRequested || bodyLength is null && !HasNumericLength(headers))
        {
            // A length nobody knows is chunked (HTTP/1.1 only, and every request here is HTTP/1.1); a caller who knows
            // it (a pipe's upload to a server that refuses chunked, S3's presigned PUT) says so in Content-Length.
            body = RequestBodyFraming.Chunked;
            edits = FramingHeaders.RemoveContentLength | FramingHeaders.AddChunked;
        }
        else if (headers.Get("Content-Length") is { } explicitLength)
        {
            // The caller's own Content-Length wins over the payload's and the body is held to it; one that is not a
            // number is sent as it is, unchecked.
            body = RequestBodyFraming.ContentLength;
            declared = long.TryParse(explicitLength, NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : null;
        }
        else
        {
            body = RequestBodyFraming.ContentLength;
            declared = bodyLength;
            edits = FramingHeaders.AddContentLength;
        }

        // As aiohttp: expect100=True adds the header, and a caller's own "Expect: 100-continue" also waits.
        var expect = headers.Get("Expect");
        if (expect100Requested && expect is null) edits |= FramingHeaders.AddExpect;
        var hold = (edits & FramingHeaders.AddExpect) != 0 || (expect is not null && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase));

        var send = hold ? RequestSend.HeadOnly
            : bodyInMemory && body == RequestBodyFraming.ContentLength && bodyLength is { } n && n <= SmallBody && declared == n ? RequestSend.HeadWithBody
            : RequestSend.HeadThenBody;
        return new RequestFraming(body, declared, edits, HeadersAsGiven: false, hold, absoluteForm, send);
    }

    /// <summary>Makes <paramref name="headers"/> (a copy of the caller's, about to be sent) say what was decided.</summary>
    public void ApplyTo(HeaderCollection headers)
    {
        if ((Headers & FramingHeaders.RemoveContentLength) != 0) headers.Remove("Content-Length");
        if ((Headers & FramingHeaders.AddChunked) != 0) headers.AddUnchecked("Transfer-Encoding", "chunked");
        if ((Headers & FramingHeaders.AddContentLength) != 0)
            headers.AddUnchecked("Content-Length", DeclaredLength is { } n and > 0 ? n.ToString(CultureInfo.InvariantCulture) : "0");
        if ((Headers & FramingHeaders.AddExpect) != 0) headers.AddUnchecked("Expect", "100-continue");
    }

    private static bool HasNumericLength(HeaderCollection headers) =>
        headers.Get("Content-Length") is { } value && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    // The methods whose requests define no meaning for content (RFC 9110 §9.3), and requests the caller framed itself.
    private static bool BodilessNeedsNoLength(string method, HeaderCollection headers) =>
        method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "CONNECT" || headers.Contains("Content-Length") || headers.Contains("Transfer-Encoding");
}
