using NUnit.Framework;
using RxHttp.Http1;

namespace RxHttp.Tests.Http1;

/// <summary>
/// The request side of framing (RFC 9112 §6, RFC 9110 §8.6 and §10.1.1), decided without a socket. Each case reads
/// "framing declared-length send [flags] | the headers as sent" (the caller's headers after <see cref="RequestFraming.ApplyTo"/>).
/// </summary>
public class RequestFramingTests
{
    // Body: "none", "bytes:N" (one in-memory buffer), "stream:N" (known length, written by the payload), "stream:?" (unknown).
    private static RequestFraming Decide(string method, string headers, string body, bool chunked = false, bool expect100 = false, bool absolute = false)
        => RequestFraming.Decide(method, Headers(headers), body != "none", Length(body), body.StartsWith("bytes:", StringComparison.Ordinal),
            chunked, expect100, absolute);

    private static HeaderCollection Headers(string text)
    {
        var headers = new HeaderCollection();
        foreach (var line in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':');
            headers.Add(line[..colon].Trim(), line[(colon + 1)..].Trim());
        }
        return headers;
    }

    private static long? Length(string body) => body.Split(':') is [_, var n] && n != "?" ? long.Parse(n) : null;

    private static string Describe(RequestFraming f, string headers)
    {
        var sent = Headers(headers);
        f.ApplyTo(sent);
        var flags = (f.HoldBody ? " hold" : "") + (f.HeadersAsGiven ? " as-given" : "") + (f.AbsoluteForm ? " absolute" : "");
        return $"{f.Body} {f.DeclaredLength?.ToString() ?? "-"} {f.Send}{flags} | {string.Join("; ", sent.Select(h => h.Key + ": " + h.Value))}";
    }

    private static string Run(string method, string headers, string body, bool chunked = false, bool expect100 = false, bool absolute = false)
        => Describe(Decide(method, headers, body, chunked, expect100, absolute), headers);

    [TestCase("GET", "", "None - HeadOnly as-given | ")]
    [TestCase("HEAD", "Accept: */*", "None - HeadOnly as-given | Accept: */*")]
    [TestCase("OPTIONS", "", "None - HeadOnly as-given | ")]
    [TestCase("TRACE", "", "None - HeadOnly as-given | ")]
    [TestCase("CONNECT", "", "None - HeadOnly as-given | ")]
    [TestCase("POST", "", "None 0 HeadOnly | Content-Length: 0")]
    [TestCase("PUT", "", "None 0 HeadOnly | Content-Length: 0")]
    [TestCase("PATCH", "", "None 0 HeadOnly | Content-Length: 0")]
    [TestCase("DELETE", "", "None 0 HeadOnly | Content-Length: 0")]
    [TestCase("get", "", "None 0 HeadOnly | Content-Length: 0")] // methods are case-sensitive (RFC 9110 §9.1): "get" is not GET
    [TestCase("POST", "Content-Length: 0", "None 0 HeadOnly as-given | Content-Length: 0")]
    [TestCase("POST", "Content-Length: 5", "None 5 HeadOnly as-given | Content-Length: 5")] // held to 5: the sender refuses it
    [TestCase("POST", "Content-Length: abc", "None - HeadOnly as-given | Content-Length: abc")]
    [TestCase("POST", "Transfer-Encoding: chunked", "Chunked - HeadOnly as-given | Transfer-Encoding: chunked")] // its last chunk follows
    [TestCase("GET", "Transfer-Encoding: gzip, chunked", "Chunked - HeadOnly as-given | Transfer-Encoding: gzip, chunked")]
    public void A_bodiless_request_says_Content_Length_0_only_when_its_method_may_carry_a_body(string method, string headers, string expected)
        => Assert.That(Run(method, headers, "none"), Is.EqualTo(expected));

    [Test]
    public void A_bodiless_request_ignores_chunked_and_expect100()
        => Assert.That(Run("POST", "", "none", chunked: true, expect100: true), Is.EqualTo("None 0 HeadOnly | Content-Length: 0"));

    [TestCase("GET", "None - HeadOnly absolute | ")]
    [TestCase("POST", "None 0 HeadOnly absolute | Content-Length: 0")]
    public void Through_a_plain_http_proxy_the_head_is_never_sent_as_given(string method, string expected)
        => Assert.That(Run(method, "", "none", absolute: true), Is.EqualTo(expected));

    [TestCase("bytes:5", "ContentLength 5 HeadWithBody | Content-Length: 5")]
    [TestCase("bytes:0", "ContentLength 0 HeadWithBody | Content-Length: 0")]
    [TestCase("bytes:16384", "ContentLength 16384 HeadWithBody | Content-Length: 16384")]
    [TestCase("bytes:16385", "ContentLength 16385 HeadThenBody | Content-Length: 16385")]
    [TestCase("stream:5", "ContentLength 5 HeadThenBody | Content-Length: 5")]
    [TestCase("stream:?", "Chunked - HeadThenBody | Transfer-Encoding: chunked")]
    public void A_body_is_framed_by_its_length_or_chunked_when_nobody_knows_it(string body, string expected)
        => Assert.That(Run("POST", "", body), Is.EqualTo(expected));

    [TestCase("GET")]
    [TestCase("HEAD")]
    [TestCase("DELETE")]
    public void A_body_is_framed_whatever_the_method(string method)
        => Assert.That(Run(method, "", "bytes:3"), Is.EqualTo("ContentLength 3 HeadWithBody | Content-Length: 3"));

    [TestCase("bytes:5", "", "Chunked - HeadThenBody | Transfer-Encoding: chunked")]
    [TestCase("stream:5", "Content-Length: 5", "Chunked - HeadThenBody | Transfer-Encoding: chunked")]
    [TestCase("bytes:5", "Transfer-Encoding: gzip", "Chunked - HeadThenBody | Transfer-Encoding: gzip; Transfer-Encoding: chunked")]
    public void Chunked_on_request_drops_any_Content_Length_and_ends_the_codings_with_chunked(string body, string headers, string expected)
        => Assert.That(Run("POST", headers, body, chunked: true), Is.EqualTo(expected));

    [TestCase("Transfer-Encoding: chunked", "Chunked - HeadThenBody | Transfer-Encoding: chunked")]
    [TestCase("Transfer-Encoding: CHUNKED", "Chunked - HeadThenBody | Transfer-Encoding: CHUNKED")]
    [TestCase("Transfer-Encoding: gzip, chunked", "Chunked - HeadThenBody | Transfer-Encoding: gzip, chunked")]
    [TestCase("Content-Length: 5; Transfer-Encoding: chunked", "Chunked - HeadThenBody | Transfer-Encoding: chunked")]
    public void A_callers_chunked_Transfer_Encoding_is_kept_as_written_and_never_sent_with_Content_Length(string headers, string expected)
    {
        Assert.That(Run("POST", headers, "bytes:5"), Is.EqualTo(expected));
        Assert.That(Run("POST", headers, "bytes:5", chunked: true), Is.EqualTo(expected), "chunked=true adds no second chunked");
    }

    [Test]
    public void A_callers_Transfer_Encoding_without_chunked_leaves_the_body_to_Content_Length_as_aiohttp_does()
        => Assert.That(Run("POST", "Transfer-Encoding: gzip", "stream:5"), Is.EqualTo("ContentLength 5 HeadThenBody | Transfer-Encoding: gzip; Content-Length: 5"));

    [TestCase("Content-Length: 9", "stream:?", "ContentLength 9 HeadThenBody | Content-Length: 9")] // as aiohttp and HttpClient: the caller knows it
    [TestCase("Content-Length: abc", "stream:?", "Chunked - HeadThenBody | Transfer-Encoding: chunked")]
    [TestCase("Content-Length: 5", "bytes:5", "ContentLength 5 HeadWithBody | Content-Length: 5")]
    [TestCase("Content-Length: 3", "bytes:5", "ContentLength 3 HeadThenBody | Content-Length: 3")] // held to 3: the payload writer refuses the rest
    [TestCase("Content-Length: 9", "stream:5", "ContentLength 9 HeadThenBody | Content-Length: 9")]
    [TestCase("Content-Length: abc", "bytes:5", "ContentLength - HeadThenBody | Content-Length: abc")]
    [TestCase("Content-Length: -1", "bytes:5", "ContentLength - HeadThenBody | Content-Length: -1")]
    public void A_callers_Content_Length_wins_and_the_body_is_held_to_it_when_it_is_a_number(string headers, string body, string expected)
        => Assert.That(Run("PUT", headers, body), Is.EqualTo(expected));

    [TestCase("", true, "ContentLength 5 HeadOnly hold | Content-Length: 5; Expect: 100-continue")]
    [TestCase("Expect: 100-continue", false, "ContentLength 5 HeadOnly hold | Expect: 100-continue; Content-Length: 5")]
    [TestCase("Expect: 100-Continue", false, "ContentLength 5 HeadOnly hold | Expect: 100-Continue; Content-Length: 5")]
    [TestCase("Expect: 100-continue", true, "ContentLength 5 HeadOnly hold | Expect: 100-continue; Content-Length: 5")]
    [TestCase("Expect: something-else", true, "ContentLength 5 HeadWithBody | Expect: something-else; Content-Length: 5")]
    public void Expect_100_continue_holds_the_body_until_the_server_asks_for_it(string headers, bool expect100, string expected)
        => Assert.That(Run("POST", headers, "bytes:5", expect100: expect100), Is.EqualTo(expected));

    [Test]
    public void A_chunked_body_waits_for_100_continue_too()
        => Assert.That(Run("POST", "", "stream:?", expect100: true), Is.EqualTo("Chunked - HeadOnly hold | Transfer-Encoding: chunked; Expect: 100-continue"));

    [Test]
    public void A_body_through_a_plain_http_proxy_keeps_its_framing_and_asks_for_the_absolute_form()
        => Assert.That(Run("POST", "", "bytes:5", absolute: true), Is.EqualTo("ContentLength 5 HeadWithBody absolute | Content-Length: 5"));

    [Test]
    public void Headers_the_caller_added_before_stay_ahead_of_the_framing_headers()
        => Assert.That(Run("POST", "Content-Type: text/plain; X-A: 1", "stream:?", expect100: true),
            Is.EqualTo("Chunked - HeadOnly hold | Content-Type: text/plain; X-A: 1; Transfer-Encoding: chunked; Expect: 100-continue"));

    private static readonly string[] Methods = ["GET", "HEAD", "OPTIONS", "TRACE", "CONNECT", "POST", "PUT", "PATCH", "DELETE", "get"];
    private static readonly string[] HeaderSets =
    [
        "", "Content-Length: 5", "Content-Length: x", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip",
        "Transfer-Encoding: gzip, chunked; Content-Length: 5", "Expect: 100-continue", "Expect: other", "Content-Length: 0; Expect: 100-continue",
    ];
    private static readonly string[] Bodies = ["none", "bytes:0", "bytes:5", "bytes:16384", "bytes:16385", "stream:5", "stream:?"];

    [Test]
    public void Every_combination_keeps_the_rules_of_RFC_9112_section_6()
    {
        var checkedCases = 0;
        foreach (var method in Methods)
        foreach (var headers in HeaderSets)
        foreach (var body in Bodies)
        foreach (var chunked in new[] { false, true })
        foreach (var expect100 in new[] { false, true })
        foreach (var absolute in new[] { false, true })
        {
            var f = Decide(method, headers, body, chunked, expect100, absolute);
            var sent = Headers(headers);
            f.ApplyTo(sent);
            var at = $"{method} [{headers}] {body} chunked={chunked} expect100={expect100} absolute={absolute}: {Describe(f, headers)}";
            var hasBody = body != "none";
            var lengths = sent.GetAll("Content-Length");
            var chunkedSent = sent.GetAll("Transfer-Encoding").Any(v => v.Contains("chunked", StringComparison.OrdinalIgnoreCase));
            Assert.Multiple(() =>
            {
                // §6.2: never both (a bodiless request's own headers excepted: they go out as the caller wrote them);
                // chunked framing is announced, a Content-Length framing once.
                if (hasBody) Assert.That(chunkedSent && lengths.Count > 0, Is.False, "Content-Length beside chunked: " + at);
                // A bodiless request the caller announced chunked is chunked too: its empty body still needs its last chunk.
                Assert.That(f.Body == RequestBodyFraming.Chunked, Is.EqualTo(chunkedSent), "chunked iff announced: " + at);
                if (f.Body == RequestBodyFraming.ContentLength) Assert.That(lengths, Has.Count.EqualTo(1), at);
                if (f.DeclaredLength is { } declared) Assert.That(lengths, Is.EqualTo(new[] { declared.ToString() }), "held to what is sent: " + at);
                // An unknown length is chunked unless the caller gave it as a number (and asked for no chunked).
                if (hasBody && Length(body) is null)
                    Assert.That(f.Body, Is.EqualTo(!chunked && !headers.Contains("chunked") && System.Text.RegularExpressions.Regex.IsMatch(headers, @"Content-Length: \d")
                        ? RequestBodyFraming.ContentLength : RequestBodyFraming.Chunked), "unknown length: " + at);
                if (!hasBody) Assert.That(f.Body, Is.EqualTo(chunkedSent ? RequestBodyFraming.Chunked : RequestBodyFraming.None), at);
                // RFC 9110 §8.6: no Content-Length: 0 on a bodiless GET/HEAD/... the caller did not frame.
                if (!hasBody && method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "CONNECT")
                    Assert.That(lengths, Is.EqualTo(Headers(headers).GetAll("Content-Length")), "nothing added to a bodiless " + at);
                // §10.1.1: only a body waits, only for a 100-continue expectation that is sent, and nothing leaves with the head then.
                Assert.That(f.HoldBody, Is.EqualTo(hasBody && string.Equals(sent.Get("Expect"), "100-continue", StringComparison.OrdinalIgnoreCase)), at);
                if (f.HoldBody) Assert.That(f.Send, Is.EqualTo(RequestSend.HeadOnly), at);
                if (f.Send == RequestSend.HeadWithBody)
                    Assert.That(body.StartsWith("bytes:", StringComparison.Ordinal) && Length(body) <= RequestFraming.SmallBody && f.DeclaredLength == Length(body), at);
                if (f.HeadersAsGiven)
                    Assert.That(sent.ToString(), Is.EqualTo(Headers(headers).ToString()), "as given means untouched: " + at);
                Assert.That(f.HeadersAsGiven, Is.EqualTo(!hasBody && !absolute && sent.ToString() == Headers(headers).ToString()), at);
                Assert.That(f.AbsoluteForm, Is.EqualTo(absolute), at);
            });
            checkedCases++;
        }
        Assert.That(checkedCases, Is.EqualTo(Methods.Length * HeaderSets.Length * Bodies.Length * 8));
    }
}
