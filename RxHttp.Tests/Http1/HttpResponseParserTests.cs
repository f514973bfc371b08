using System.Diagnostics;
using NUnit.Framework;
using RxHttp.Http1;

namespace RxHttp.Tests.Http1;

public class HttpResponseParserTests
{
    // (head on the wire, expected description of what the handler saw)
    private static readonly (string Head, string Expected)[] ValidHeads =
    {
        ("HTTP/1.1 200 OK\r\n\r\n", "1.1 200 [OK]"),
        ("HTTP/1.0 404 Not Found\r\nServer: x\r\n\r\n", "1.0 404 [Not Found] | Server=[x]"),
        ("HTTP/1.1 200 \r\n\r\n", "1.1 200 []"),
        ("HTTP/1.1 200\r\n\r\n", "1.1 200 []"),
        ("HTTP/1.1 100 Continue\r\n\r\n", "1.1 100 [Continue]"),
        ("HTTP/1.1 999 Whatever\r\n\r\n", "1.1 999 [Whatever]"),
        ("HTTP/1.1 200 \u00C3\u00A9t\u00E9 ok\r\n\r\n", "1.1 200 [\u00C3\u00A9t\u00E9 ok]"),
        ("HTTP/1.1 200 Tab\there\r\n\r\n", "1.1 200 [Tab\there]"),
        ("HTTP/1.1 200 OK \r\n\r\n", "1.1 200 [OK ]"),
        ("HTTP/1.1 200 OK\nA: b\nC: d\n\n", "1.1 200 [OK] | A=[b] | C=[d]"),
        ("HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\n", "1.1 200 [OK] | A=[b] | C=[d]"),
        ("HTTP/1.1 200 OK\r\nA:   b c \t\r\n\r\n", "1.1 200 [OK] | A=[b c]"),
        ("HTTP/1.1 200 OK\r\nA:b\r\n\r\n", "1.1 200 [OK] | A=[b]"),
        ("HTTP/1.1 200 OK\r\nA:\r\nB:  \t \r\n\r\n", "1.1 200 [OK] | A=[] | B=[]"),
        ("HTTP/1.1 200 OK\r\nX-Obs: caf\u00E9 \u00FF\r\n\r\n", "1.1 200 [OK] | X-Obs=[caf\u00E9 \u00FF]"),
        ("HTTP/1.1 200 OK\r\nX-Tab: a\tb\r\n\r\n", "1.1 200 [OK] | X-Tab=[a\tb]"),
        ("HTTP/1.1 301 Moved\r\nLocation: http://h:80/a?b=c:d\r\n\r\n", "1.1 301 [Moved] | Location=[http://h:80/a?b=c:d]"),
        ("HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09AZaz: v\r\n\r\n", "1.1 200 [OK] | !#$%&'*+-.^_`|~09AZaz=[v]"),
        ("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nSet-Cookie: a=1\r\n\r\n",
            "1.1 200 [OK] | Set-Cookie=[a=1] | set-cookie=[b=2] | Set-Cookie=[a=1]"),
        ("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n",
            "1.1 200 [OK] | Content-Type=[text/plain; charset=utf-8] | Content-Length=[5] | Connection=[keep-alive]"),
        ("HTTP/1.1 200 OK\r\nQuote: \"a, b\" (c)\r\n\r\n", "1.1 200 [OK] | Quote=[\"a, b\" (c)]"),
        // RFC 9112 §2.2: empty lines before the status line are skipped (and consumed with the head).
        ("\r\nHTTP/1.1 200 OK\r\n\r\n", "1.1 200 [OK]"),
        ("\r\n\r\n\nHTTP/1.1 204 No Content\r\nA: b\r\n\r\n", "1.1 204 [No Content] | A=[b]"),
        ("\n\nHTTP/1.0 200 OK\n\n", "1.0 200 [OK]"),
        ("HTTP/1.2 200 OK\r\n\r\n", "1.2 200 [OK]"),
        // Bare LF ends a line (RFC 9112 §2.2 permits it; the choice is documented in README's "The wire").
        ("HTTP/1.1 200 OK\nA: b\n\n", "1.1 200 [OK] | A=[b]"),
    };

    // (head on the wire, a fragment the error message must contain)
    private static readonly (string Head, string Message)[] InvalidHeads =
    {
        ("HTTP/2 200 OK\r\n\r\n", "HTTP version"),
        ("ICY 200 OK\r\n\r\n", "HTTP version"),
        ("http/1.1 200 OK\r\n\r\n", "HTTP version"),
        ("HTTP/1.x 200 OK\r\n\r\n", "HTTP version"),
        ("HTTP/11.1 200 OK\r\n\r\n", "HTTP version"),
        ("HTTP/1.1\r\n\r\n", "missing status code"),
        ("HTTP/1.10 200 OK\r\n\r\n", "single SP after the HTTP version"),
        ("HTTP/1.1\t200 OK\r\n\r\n", "single SP after the HTTP version"),
        ("HTTP/1.1 \r\n\r\n", "status code must be exactly 3 digits"),
        ("HTTP/1.1  200 OK\r\n\r\n", "status code must be exactly 3 digits"),
        ("HTTP/1.1 20 OK\r\n\r\n", "status code must be exactly 3 digits"),
        ("HTTP/1.1 2000 OK\r\n\r\n", "status code must be exactly 3 digits"),
        ("HTTP/1.1 099 OK\r\n\r\n", "status code must be exactly 3 digits"),
        ("HTTP/1.1 20a OK\r\n\r\n", "status code must be exactly 3 digits"),
        ("HTTP/1.1 OK\r\n\r\n", "status code must be exactly 3 digits"),
        ("HTTP/1.1 200OK\r\n\r\n", "status code must be exactly 3 digits"),
        ("\rHTTP/1.1 200 OK\r\n\r\n", "HTTP version"),
        ("\r\n\rHTTP/1.1 200 OK\r\n\r\n", "HTTP version"),
        ("\r\r\nHTTP/1.1 200 OK\r\n\r\n", "HTTP version"),
        ("HTTP/5.6 200 OK\r\n\r\n", "Unsupported HTTP version HTTP/5.6"),
        ("HTTP/2.0 200 OK\r\n\r\n", "Unsupported HTTP version HTTP/2.0"),
        ("HTTP/0.9 200 OK\r\n\r\n", "Unsupported HTTP version HTTP/0.9"),
        ("\r\nHTTP/3.0 200 OK\r\n\r\n", "Unsupported HTTP version HTTP/3.0"),
        // A lone CR is never a line end, wherever it sits (RFC 9112 §2.2).
        ("HTTP/1.1 200 OK\rA: b\r\n\r\n", "bare CR in reason phrase"),
        ("HTTP/1.1 200 OK\r\nA: b\rC: d\r\n\r\n", "Bare CR in value of header 'A'"),
        ("HTTP/1.1 200 O\rK\r\n\r\n", "bare CR in reason phrase"),
        ("HTTP/1.1 200 OK\r\r\n\r\n", "bare CR in reason phrase"),
        ("HTTP/1.1 200 O\0K\r\n\r\n", "control character 0x00 in reason phrase"),
        ("HTTP/1.1 200 O\u007FK\r\n\r\n", "control character 0x7F in reason phrase"),
        ("HTTP/1.1 200 OK\r\nHost : x\r\n\r\n", "Whitespace between header name and colon"),
        ("HTTP/1.1 200 OK\r\nHost\t: x\r\n\r\n", "Whitespace between header name and colon"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\n\r\n", "Whitespace between header name and colon"),
        ("HTTP/1.1 200 OK\r\nX A: v\r\n\r\n", "Whitespace in header name"),
        ("HTTP/1.1 200 OK\r\nX \t A : v\r\n\r\n", "Whitespace in header name"),
        ("HTTP/1.1 200 OK\r\n: x\r\n\r\n", "Empty header name"),
        ("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "no colon"),
        ("HTTP/1.1 200 OK\r\nBad[Name]: x\r\n\r\n", "Invalid character 0x5B in header name"),
        ("HTTP/1.1 200 OK\r\nBad\u00E9: x\r\n\r\n", "Invalid character 0xE9 in header name"),
        ("HTTP/1.1 200 OK\r\nA\r: x\r\n\r\n", "Bare CR in header name"),
        ("HTTP/1.1 200 OK\r\nA: b\r\n\rX\r\n\r\n", "Bare CR in header name"),
        ("HTTP/1.1 200 OK\r\nA: b\r\n\r\r\n", "Bare CR in header name"),
        ("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n", "NUL in value of header 'A'"),
        ("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "Bare CR in value of header 'A'"),
        ("HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n", "Bare CR in value of header 'A'"),
        ("HTTP/1.1 200 OK\r\nA: b\u0001c\r\n\r\n", "Invalid control character 0x01 in value of header 'A'"),
        ("HTTP/1.1 200 OK\r\nA: b\u001Fc\r\n\r\n", "Invalid control character 0x1F in value of header 'A'"),
        ("HTTP/1.1 200 OK\r\nA: b\u007Fc\r\n\r\n", "Invalid control character 0x7F in value of header 'A'"),
        ("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", "obs-fold is not allowed"),
        ("HTTP/1.1 200 OK\r\nA: b\r\n\tfolded\r\n\r\n", "obs-fold is not allowed"),
        ("HTTP/1.1 200 OK\r\n Leading: ws\r\n\r\n", "obs-fold is not allowed"),
    };

    private static IEnumerable<TestCaseData> ValidCases()
        => ValidHeads.Select(c => new TestCaseData(c.Head, c.Expected).SetArgDisplayNames(Shown(c.Head)));

    private static IEnumerable<TestCaseData> InvalidCases()
        => InvalidHeads.Select(c => new TestCaseData(c.Head, c.Message).SetArgDisplayNames(Shown(c.Head)));

    private static string Shown(string s) => s.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t").Replace("\0", "\\0");

    private static string ParseWhole(byte[] bytes, out int consumed, HttpParserLimits? limits = null)
    {
        var h = new RecordingHeadHandler();
        Assert.That(HttpResponseParser.TryParseHead(bytes, h, limits ?? HttpParserLimits.Default, out consumed), Is.True);
        return h.Describe();
    }

    [TestCaseSource(nameof(ValidCases))]
    public void Valid_head_is_reported_in_order(string head, string expected)
    {
        byte[] bytes = Bytes.Of(head + "BODY");
        Assert.That(ParseWhole(bytes, out int consumed), Is.EqualTo(expected));
        Assert.That(consumed, Is.EqualTo(head.Length), "consumed must stop right after the empty line");
    }

    [TestCaseSource(nameof(InvalidCases))]
    public void Invalid_head_throws_a_message_naming_the_problem(string head, string message)
    {
        var h = new RecordingHeadHandler();
        var ex = Assert.Throws<HttpParseException>(() => HttpResponseParser.TryParseHead(Bytes.Of(head), h, HttpParserLimits.Default, out _));
        Assert.That(ex!.Message, Does.Contain(message));
        Assert.That(ex.IsPayloadError, Is.False);
        Assert.That(h.Calls, Is.Zero, "nothing is reported for a head that fails validation");
    }

    [TestCaseSource(nameof(InvalidCases))]
    public void Invalid_head_fed_byte_by_byte_throws_before_it_completes(string head, string message)
    {
        byte[] bytes = Bytes.Of(head);
        var h = new RecordingHeadHandler();
        for (int n = 0; n <= bytes.Length; n++)
        {
            try
            {
                Assert.That(HttpResponseParser.TryParseHead(bytes.AsSpan(0, n), h, HttpParserLimits.Default, out int consumed), Is.False,
                    $"a prefix of {n} bytes was accepted");
                Assert.That(consumed, Is.Zero);
            }
            catch (HttpParseException ex)
            {
                Assert.That(ex.Message, Does.Contain(message));
                Assert.That(h.Calls, Is.Zero);
                return;
            }
        }
        Assert.Fail("never threw");
    }

    [TestCaseSource(nameof(InvalidCases))]
    public void Invalid_head_split_in_two_at_every_boundary_throws_the_same_error(string head, string message)
    {
        byte[] bytes = Bytes.Of(head);
        for (int split = 0; split <= bytes.Length; split++)
        {
            var h = new RecordingHeadHandler();
            var ex = Assert.Throws<HttpParseException>(() =>
            {
                // The caller re-parses from the same start with the new bytes appended, as the connection does.
                if (!HttpResponseParser.TryParseHead(bytes.AsSpan(0, split), h, HttpParserLimits.Default, out _))
                    HttpResponseParser.TryParseHead(bytes, h, HttpParserLimits.Default, out _);
            }, $"split at {split}");
            Assert.That(ex!.Message, Does.Contain(message), $"split at {split}");
            Assert.That(h.Calls, Is.Zero);
        }
    }

    [TestCaseSource(nameof(ValidCases))]
    public void Valid_head_fed_one_byte_at_a_time_gives_the_same_result(string head, string expected)
    {
        byte[] bytes = Bytes.Of(head + "X");
        for (int n = 0; n < head.Length; n++)
        {
            var h = new RecordingHeadHandler();
            bool done = HttpResponseParser.TryParseHead(bytes.AsSpan(0, n), h, HttpParserLimits.Default, out int consumed);
            Assert.That(done, Is.False, $"complete after only {n} of {head.Length} bytes");
            Assert.That(consumed, Is.Zero);
            Assert.That(h.Calls, Is.Zero, $"handler was called for an incomplete head of {n} bytes");
        }
        for (int n = head.Length; n <= bytes.Length; n++)
        {
            var h = new RecordingHeadHandler();
            Assert.That(HttpResponseParser.TryParseHead(bytes.AsSpan(0, n), h, HttpParserLimits.Default, out int consumed), Is.True);
            Assert.That(consumed, Is.EqualTo(head.Length));
            Assert.That(h.Describe(), Is.EqualTo(expected));
        }
    }

    [TestCaseSource(nameof(ValidCases))]
    public void Valid_head_split_in_two_at_every_boundary_gives_the_same_result(string head, string expected)
    {
        byte[] whole = Bytes.Of(head + "HTTP/1.1 200 OK\r\n\r\n");
        for (int split = 0; split <= whole.Length; split++)
        {
            // The caller keeps the unconsumed bytes and appends what arrives next, calling again until true.
            var buffer = new List<byte>();
            var h = new RecordingHeadHandler();
            int consumed = 0;
            bool done = false;
            foreach (var piece in new[] { whole[..split], whole[split..] })
            {
                buffer.AddRange(piece);
                done = HttpResponseParser.TryParseHead(buffer.ToArray(), h, HttpParserLimits.Default, out consumed);
                if (done) break;
                Assert.That(consumed, Is.Zero);
                Assert.That(h.Calls, Is.Zero);
            }
            Assert.That(done, Is.True, $"split at {split}");
            Assert.That(consumed, Is.EqualTo(head.Length), $"split at {split}");
            Assert.That(h.Describe(), Is.EqualTo(expected), $"split at {split}");
        }
    }

    [Test]
    public void Headers_beyond_the_stack_buffer_are_all_reported_in_order()
    {
        var head = new System.Text.StringBuilder("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 100; i++) head.Append($"H{i}: v{i}\r\n");
        head.Append("\r\n");
        var h = new RecordingHeadHandler();
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of(head.ToString()), h, HttpParserLimits.Default, out int consumed), Is.True);
        Assert.That(consumed, Is.EqualTo(head.Length));
        Assert.That(h.Headers, Is.EqualTo(Enumerable.Range(0, 100).Select(i => ($"H{i}", $"v{i}")).ToList()));
    }

    [Test]
    public void Empty_lines_before_the_status_line_count_towards_its_limit()
    {
        var limits = new HttpParserLimits { MaxLineSize = 40 };
        Assert.That(ParseWhole(Bytes.Of(string.Concat(Enumerable.Repeat("\r\n", 20)) + "HTTP/1.1 200 OK\r\n\r\n"), out _, limits), Is.EqualTo("1.1 200 [OK]"));
        // Only empty lines, never a status line: an error once they pass the limit, not an endless wait.
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of(new string('\n', 40)), new RecordingHeadHandler(), limits, out _), Is.False);
        var ex = Assert.Throws<HttpParseException>(() => HttpResponseParser.TryParseHead(Bytes.Of(new string('\n', 41)), new RecordingHeadHandler(), limits, out _));
        Assert.That(ex!.Message, Is.EqualTo("Too many empty lines before the status line: limit 40 bytes"));
    }

    [Test]
    public void Empty_buffer_is_incomplete()
    {
        var h = new RecordingHeadHandler();
        Assert.That(HttpResponseParser.TryParseHead(ReadOnlySpan<byte>.Empty, h, HttpParserLimits.Default, out int consumed), Is.False);
        Assert.That(consumed, Is.Zero);
    }

    // ---- limits ----

    private static string Line(string prefix, int length) => prefix + new string('a', length - prefix.Length);

    [Test]
    public void Status_line_exactly_at_the_limit_is_accepted()
    {
        var limits = new HttpParserLimits { MaxLineSize = 40 };
        string status = Line("HTTP/1.1 200 ", 40);
        Assert.That(ParseWhole(Bytes.Of(status + "\r\n\r\n"), out _, limits), Does.StartWith("1.1 200 [aaa"));
        // Incomplete, still within the limit: with and without the CR of the terminator.
        var h = new RecordingHeadHandler();
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of(status), h, limits, out _), Is.False);
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of(status + "\r"), h, limits, out _), Is.False);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Status_line_one_over_the_limit_throws_even_before_its_end_arrives(bool complete)
    {
        var limits = new HttpParserLimits { MaxLineSize = 40 };
        string status = Line("HTTP/1.1 200 ", 41) + (complete ? "\r\n\r\n" : "");
        var ex = Assert.Throws<HttpParseException>(() => HttpResponseParser.TryParseHead(Bytes.Of(status), new RecordingHeadHandler(), limits, out _));
        Assert.That(ex!.Message, Is.EqualTo("Status line is too long: limit 40 bytes"));
    }

    [Test]
    public void Header_line_exactly_at_the_limit_is_accepted()
    {
        var limits = new HttpParserLimits { MaxFieldSize = 30 };
        string header = Line("X-Long: ", 30);
        Assert.That(ParseWhole(Bytes.Of("HTTP/1.1 200 OK\r\n" + header + "\r\n\r\n"), out _, limits),
            Is.EqualTo("1.1 200 [OK] | X-Long=[" + new string('a', 22) + "]"));
        var h = new RecordingHeadHandler();
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of("HTTP/1.1 200 OK\r\n" + header), h, limits, out _), Is.False);
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of("HTTP/1.1 200 OK\r\n" + header + "\r"), h, limits, out _), Is.False);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Header_line_one_over_the_limit_throws_even_before_its_end_arrives(bool complete)
    {
        var limits = new HttpParserLimits { MaxFieldSize = 30 };
        string head = "HTTP/1.1 200 OK\r\nA: b\r\n" + Line("X-Long: ", 31) + (complete ? "\r\n\r\n" : "");
        var ex = Assert.Throws<HttpParseException>(() => HttpResponseParser.TryParseHead(Bytes.Of(head), new RecordingHeadHandler(), limits, out _));
        Assert.That(ex!.Message, Is.EqualTo("Header line is too long: limit 30 bytes"));
    }

    [Test]
    public void Default_limit_messages_name_aiohttp_values()
    {
        string longHeader = "HTTP/1.1 200 OK\r\n" + Line("X: ", 8191);
        var ex = Assert.Throws<HttpParseException>(() => HttpResponseParser.TryParseHead(Bytes.Of(longHeader), new RecordingHeadHandler(), HttpParserLimits.Default, out _));
        Assert.That(ex!.Message, Is.EqualTo("Header line is too long: limit 8190 bytes"));
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of("HTTP/1.1 200 OK\r\n" + Line("X: ", 8190)), new RecordingHeadHandler(), HttpParserLimits.Default, out _), Is.False);

        ex = Assert.Throws<HttpParseException>(() => HttpResponseParser.TryParseHead(Bytes.Of(Line("HTTP/1.1 200 ", 8191)), new RecordingHeadHandler(), HttpParserLimits.Default, out _));
        Assert.That(ex!.Message, Is.EqualTo("Status line is too long: limit 8190 bytes"));
    }

    private static string HeadWithHeaders(int count, string tail)
    {
        var sb = new System.Text.StringBuilder("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < count; i++) sb.Append($"H{i}: {i}\r\n");
        return sb.Append(tail).ToString();
    }

    [Test]
    public void Exactly_max_headers_is_accepted()
    {
        var limits = new HttpParserLimits { MaxHeaders = 5 };
        var h = new RecordingHeadHandler();
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of(HeadWithHeaders(5, "\r\n")), h, limits, out _), Is.True);
        Assert.That(h.Headers, Has.Count.EqualTo(5));
        // The start of the empty line is not a sixth header.
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of(HeadWithHeaders(5, "\r")), new RecordingHeadHandler(), limits, out _), Is.False);
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of(HeadWithHeaders(5, "")), new RecordingHeadHandler(), limits, out _), Is.False);
    }

    [TestCase("H5: 5\r\n\r\n")]
    [TestCase("H5: 5\r\n")]
    [TestCase("H")]
    public void One_header_over_max_headers_throws_even_before_the_head_ends(string tail)
    {
        var limits = new HttpParserLimits { MaxHeaders = 5 };
        var ex = Assert.Throws<HttpParseException>(() => HttpResponseParser.TryParseHead(Bytes.Of(HeadWithHeaders(5, tail)), new RecordingHeadHandler(), limits, out _));
        Assert.That(ex!.Message, Is.EqualTo("Too many headers: limit 5"));
    }

    [Test]
    public void Default_max_headers_is_128()
    {
        Assert.That(HttpResponseParser.TryParseHead(Bytes.Of(HeadWithHeaders(128, "\r\n")), new RecordingHeadHandler(), HttpParserLimits.Default, out _), Is.True);
        var ex = Assert.Throws<HttpParseException>(() => HttpResponseParser.TryParseHead(Bytes.Of(HeadWithHeaders(129, "\r\n")), new RecordingHeadHandler(), HttpParserLimits.Default, out _));
        Assert.That(ex!.Message, Is.EqualTo("Too many headers: limit 128"));
    }

    [Test]
    public void Partial_head_still_below_limits_is_not_an_error()
    {
        // A long-but-legal header arriving slowly must not be mistaken for an attack.
        var limits = new HttpParserLimits { MaxFieldSize = 100, MaxHeaders = 3 };
        byte[] bytes = Bytes.Of("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n" + Line("C: ", 100) + "\r\n\r\n");
        for (int n = 0; n < bytes.Length; n++)
            Assert.That(HttpResponseParser.TryParseHead(bytes.AsSpan(0, n), new RecordingHeadHandler(), limits, out _), Is.False);
        Assert.That(HttpResponseParser.TryParseHead(bytes, new RecordingHeadHandler(), limits, out int consumed), Is.True);
        Assert.That(consumed, Is.EqualTo(bytes.Length));
    }

    // ---- performance ----

    private static readonly byte[] TypicalHead = Bytes.Of(
        "HTTP/1.1 200 OK\r\n" +
        "Date: Mon, 27 Jul 2009 12:28:53 GMT\r\n" +
        "Server: nginx/1.25.3\r\n" +
        "Content-Type: application/json; charset=utf-8\r\n" +
        "Content-Length: 1234\r\n" +
        "Connection: keep-alive\r\n" +
        "Cache-Control: no-cache, no-store, must-revalidate\r\n" +
        "ETag: \"33a64df551425fcc55e4d42a148795d9f25f89d4\"\r\n" +
        "Vary: Accept-Encoding\r\n" +
        "X-Request-Id: 7f0c9a1e-3b9e-4b5e-9d5c-2f1a7c3d4e5f\r\n" +
        "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n" +
        "\r\n");

    [Test]
    public void Parsing_a_head_allocates_nothing()
    {
        var handler = new NullHeadHandler();
        for (int i = 0; i < 100; i++) HttpResponseParser.TryParseHead(TypicalHead, handler, HttpParserLimits.Default, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) HttpResponseParser.TryParseHead(TypicalHead, handler, HttpParserLimits.Default, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero);
        Assert.That(handler.Headers, Is.EqualTo(1100 * 10));
    }

    [Test]
    public void Incomplete_head_allocates_nothing()
    {
        var handler = new NullHeadHandler();
        byte[] partial = TypicalHead[..^3];
        for (int i = 0; i < 100; i++) HttpResponseParser.TryParseHead(partial, handler, HttpParserLimits.Default, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) HttpResponseParser.TryParseHead(partial, handler, HttpParserLimits.Default, out _);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(handler.Headers, Is.Zero);
    }
}
