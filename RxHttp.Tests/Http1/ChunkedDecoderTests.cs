using System.Text;
using NUnit.Framework;
using RxHttp.Http1;

namespace RxHttp.Tests.Http1;

public class ChunkedDecoderTests
{
    private const string Next = "HTTP/1.1 200 OK\r\n";

    // Multi-chunk body exercising extensions (quoted, BWS), both hex cases, a lone LF, and trailers.
    private const string Body =
        "4;ext=1\r\nWiki\r\n" +
        "5 ;name=\"quoted;value\"\r\npedia\r\n" +
        "e; a=b ;c\r\n in\r\n\r\nchunks.\r\n" +
        "A\nabcdefghij\n" +
        "1a\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n" +
        "0;last=yes\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Trailer:  v \t\r\nX-Obs: caf\u00E9\r\n\r\n";

    private const string ExpectedData = "Wikipedia in\r\n\r\nchunks.abcdefghijABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private static readonly KeyValuePair<string, string>[] ExpectedTrailers =
    {
        new("Expires", "Wed, 21 Oct 2015 07:28:00 GMT"),
        new("X-Trailer", "v"),
        new("X-Obs", "caf\u00E9"),
    };

    private sealed record Outcome(string Data, int ConsumedTotal, bool Done, IReadOnlyList<KeyValuePair<string, string>> Trailers);

    /// <summary>
    /// Feeds the pieces the way the connection layer will: unconsumed bytes are kept and the next piece appended;
    /// Decode is called until it needs more data. Stops at Done.
    /// </summary>
    private static Outcome Run(ChunkedDecoder decoder, IEnumerable<byte[]> pieces)
    {
        var data = new List<byte>();
        var pending = new List<byte>();
        int consumedTotal = 0;
        foreach (var piece in pieces)
        {
            pending.AddRange(piece);
            while (true)
            {
                byte[] input = pending.ToArray();
                var status = decoder.Decode(input, out int consumed, out int offset, out int length);
                Assert.That(consumed, Is.InRange(0, input.Length));
                consumedTotal += consumed;
                pending.RemoveRange(0, consumed);
                if (status == ChunkedStatus.Done)
                {
                    Assert.That(length, Is.Zero);
                    return new Outcome(Encoding.Latin1.GetString(data.ToArray()), consumedTotal, true, decoder.Trailers.ToList());
                }
                if (status == ChunkedStatus.NeedMoreData)
                {
                    Assert.That(length, Is.Zero);
                    break;
                }
                Assert.That(length, Is.GreaterThan(0), "Data must carry at least one byte");
                Assert.That(consumed, Is.EqualTo(offset + length));
                data.AddRange(input.AsSpan(offset, length).ToArray());
            }
        }
        return new Outcome(Encoding.Latin1.GetString(data.ToArray()), consumedTotal, false, decoder.Trailers.ToList());
    }

    private static Outcome RunWhole(string wire, HttpParserLimits? limits = null)
        => Run(new ChunkedDecoder(limits), new[] { Bytes.Of(wire) });

    private static void AssertExpected(Outcome o, string because)
    {
        Assert.That(o.Done, Is.True, because);
        Assert.That(o.Data, Is.EqualTo(ExpectedData), because);
        Assert.That(o.ConsumedTotal, Is.EqualTo(Body.Length), because + ": the next response's bytes must be left alone");
        Assert.That(o.Trailers, Is.EqualTo(ExpectedTrailers), because);
    }

    [Test]
    public void Whole_body_decodes_and_stops_before_the_next_response()
        => AssertExpected(RunWhole(Body + Next), "whole");

    [Test]
    public void Body_split_in_two_at_every_boundary_decodes_the_same()
    {
        byte[] wire = Bytes.Of(Body + Next);
        for (int split = 0; split <= wire.Length; split++)
            AssertExpected(Run(new ChunkedDecoder(), new[] { wire[..split], wire[split..] }), $"split at {split}");
    }

    [Test]
    public void Body_split_in_three_at_every_pair_of_boundaries_decodes_the_same()
    {
        byte[] wire = Bytes.Of(Body + Next);
        var decoder = new ChunkedDecoder();
        for (int a = 0; a <= wire.Length; a++)
        {
            for (int b = a; b <= wire.Length; b++)
            {
                decoder.Reset();
                AssertExpected(Run(decoder, new[] { wire[..a], wire[a..b], wire[b..] }), $"split at {a} and {b}");
            }
        }
    }

    [Test]
    public void Body_fed_one_byte_at_a_time_decodes_the_same()
    {
        byte[] wire = Bytes.Of(Body + Next);
        AssertExpected(Run(new ChunkedDecoder(), wire.Select(b => new[] { b })), "byte by byte");
    }

    [Test]
    public void Data_is_a_slice_of_the_input_and_framing_is_consumed_without_copying()
    {
        var decoder = new ChunkedDecoder();
        byte[] input = Bytes.Of("5;x=y\r\nhello\r\n0\r\n\r\n");
        Assert.That(decoder.Decode(input, out int consumed, out int offset, out int length), Is.EqualTo(ChunkedStatus.Data));
        Assert.That((offset, length, consumed), Is.EqualTo((7, 5, 12)));
        Assert.That(decoder.Decode(input.AsSpan(consumed), out consumed, out offset, out length), Is.EqualTo(ChunkedStatus.Done));
        Assert.That(consumed, Is.EqualTo(input.Length - 12));
    }

    [Test]
    public void A_chunk_larger_than_the_input_is_returned_piece_by_piece()
    {
        var decoder = new ChunkedDecoder();
        Assert.That(decoder.Decode(Bytes.Of("a\r\nabc"), out int consumed, out int offset, out int length), Is.EqualTo(ChunkedStatus.Data));
        Assert.That((offset, length, consumed), Is.EqualTo((3, 3, 6)));
        Assert.That(decoder.Decode(Bytes.Of("defg"), out consumed, out offset, out length), Is.EqualTo(ChunkedStatus.Data));
        Assert.That((offset, length, consumed), Is.EqualTo((0, 4, 4)));
        Assert.That(decoder.Decode(Bytes.Of("hij\r"), out consumed, out offset, out length), Is.EqualTo(ChunkedStatus.Data));
        Assert.That((offset, length, consumed), Is.EqualTo((0, 3, 3)));
        Assert.That(decoder.Decode(Bytes.Of("\r"), out consumed, out _, out _), Is.EqualTo(ChunkedStatus.NeedMoreData));
        Assert.That(consumed, Is.EqualTo(1));
        Assert.That(decoder.Decode(Bytes.Of("\n0\r\n\r\n"), out consumed, out _, out _), Is.EqualTo(ChunkedStatus.Done));
        Assert.That(consumed, Is.EqualTo(6));
    }

    [Test]
    public void Empty_input_needs_more_data_and_done_is_sticky()
    {
        var decoder = new ChunkedDecoder();
        Assert.That(decoder.Decode(ReadOnlySpan<byte>.Empty, out int consumed, out _, out _), Is.EqualTo(ChunkedStatus.NeedMoreData));
        Assert.That(consumed, Is.Zero);
        Assert.That(decoder.Decode(Bytes.Of("0\r\n\r\nrest"), out consumed, out _, out _), Is.EqualTo(ChunkedStatus.Done));
        Assert.That(consumed, Is.EqualTo(5));
        Assert.That(decoder.Decode(Bytes.Of("rest"), out consumed, out _, out int length), Is.EqualTo(ChunkedStatus.Done));
        Assert.That((consumed, length), Is.EqualTo((0, 0)));
        Assert.That(decoder.Trailers, Is.Empty);
    }

    [Test]
    public void Reset_starts_a_new_body_and_forgets_trailers()
    {
        var decoder = new ChunkedDecoder();
        AssertExpected(Run(decoder, new[] { Bytes.Of(Body) }), "first");
        decoder.Reset();
        Assert.That(decoder.Trailers, Is.Empty);
        var o = Run(decoder, new[] { Bytes.Of("3\r\nabc\r\n0\r\n\r\n") });
        Assert.That((o.Done, o.Data), Is.EqualTo((true, "abc")));
        Assert.That(o.Trailers, Is.Empty);
    }

    [Test]
    public void Reset_in_the_middle_of_a_trailer_line_discards_it()
    {
        var decoder = new ChunkedDecoder();
        Assert.That(Run(decoder, new[] { Bytes.Of("0\r\nX-Partial: abc") }).Done, Is.False);
        decoder.Reset();
        var o = Run(decoder, new[] { Bytes.Of("0\r\nA: b\r\n\r\n") });
        Assert.That(o.Trailers, Is.EqualTo(new[] { new KeyValuePair<string, string>("A", "b") }));
    }

    [TestCase("0\r\n\r\n", "")]
    [TestCase("0\n\n", "")]
    [TestCase("00000\r\n\r\n", "")]
    [TestCase("3\nabc\n0\n\n", "abc")]
    [TestCase("0000000000000003\r\nabc\r\n0\r\n\r\n", "abc")]
    [TestCase("3\t;x\r\nabc\r\n0\r\n\r\n", "abc")]
    [TestCase("3;a=\"\u00E9\u00FF\"\r\nabc\r\n0\r\n\r\n", "abc")]
    [TestCase("3 ; a = b ; c = \"d e\" ;f\r\nabc\r\n0\r\n\r\n", "abc")]
    [TestCase("3;a=\"q\\\"uote\\\\\";b\r\nabc\r\n0\r\n\r\n", "abc")]
    [TestCase("3;a=\"\"\r\nabc\r\n0\r\n\r\n", "abc")]
    [TestCase("3;a;b;c=1\nabc\n0;x\n\n", "abc")]
    public void Valid_bodies(string wire, string expected)
    {
        var o = RunWhole(wire);
        Assert.That(o.Done, Is.True);
        Assert.That(o.Data, Is.EqualTo(expected));
        Assert.That(o.ConsumedTotal, Is.EqualTo(wire.Length));
        byte[] bytes = Bytes.Of(wire);
        Assert.That(Run(new ChunkedDecoder(), bytes.Select(b => new[] { b })), Is.EqualTo(o).Using<Outcome>(SameOutcome), "byte by byte");
        for (int split = 0; split <= bytes.Length; split++)
            Assert.That(Run(new ChunkedDecoder(), new[] { bytes[..split], bytes[split..] }), Is.EqualTo(o).Using<Outcome>(SameOutcome), $"split at {split}");
    }

    private static bool SameOutcome(Outcome a, Outcome b)
        => a.Data == b.Data && a.ConsumedTotal == b.ConsumedTotal && a.Done == b.Done && a.Trailers.SequenceEqual(b.Trailers);

    [TestCase("aB")]
    [TestCase("Ab")]
    [TestCase("ab")]
    [TestCase("AB")]
    [TestCase("00ab")]
    public void Hex_size_is_case_insensitive(string size)
    {
        string payload = string.Concat(Enumerable.Range(0, 0xAB).Select(i => (char)('a' + i % 26)));
        var o = RunWhole(size + "\r\n" + payload + "\r\n0\r\n\r\n");
        Assert.That((o.Done, o.Data), Is.EqualTo((true, payload)));
    }

    [Test]
    public void Largest_representable_chunk_size_is_accepted()
    {
        var decoder = new ChunkedDecoder();
        Assert.That(decoder.Decode(Bytes.Of("7fffffffffffffff\r\nab"), out int consumed, out int offset, out int length), Is.EqualTo(ChunkedStatus.Data));
        Assert.That((offset, length, consumed), Is.EqualTo((18, 2, 20)));
    }

    [TestCase("x\r\n", "Invalid chunk size: expected a hex digit, got 0x78")]
    [TestCase("\r\n", "Invalid chunk size: expected a hex digit, got 0x0D")]
    [TestCase(";ext\r\n", "Invalid chunk size: expected a hex digit")]
    [TestCase("-4\r\n", "Invalid chunk size: expected a hex digit")]
    [TestCase("+4\r\n", "Invalid chunk size: expected a hex digit")]
    [TestCase(" 4\r\n", "Invalid chunk size: expected a hex digit")]
    [TestCase("0x4\r\n", "Invalid character 0x78 in chunk size")]
    [TestCase("4g\r\n", "Invalid character 0x67 in chunk size")]
    [TestCase("4 4\r\n", "Invalid character 0x34 after chunk size")]
    [TestCase("25  \r\n", "Whitespace after chunk size without a chunk extension")]
    [TestCase("25\t\n", "Whitespace after chunk size without a chunk extension")]
    [TestCase("2;\r\nab\r\n0\r\n\r\n", "Empty chunk extension name")]
    [TestCase("2; \r\n", "Empty chunk extension name")]
    [TestCase("2;;a\r\n", "Empty chunk extension name")]
    [TestCase("2;a;\r\n", "Empty chunk extension name")]
    [TestCase("2;=b\r\n", "Invalid character 0x3D in chunk extension")]
    [TestCase("2;a=\r\n", "Empty chunk extension value")]
    [TestCase("2;a=;b\r\n", "Empty chunk extension value")]
    [TestCase("2;a=\"b\r\nab\r\n0\r\n\r\n", "Unterminated quoted string in chunk extension")]
    [TestCase("2;a=\"b\\\"\r\n", "Unterminated quoted string in chunk extension")]
    [TestCase("2;a=b\"c\"\r\n", "Invalid character 0x22 in chunk extension")]
    [TestCase("2;a=\"b\"c\r\n", "Invalid character 0x63 in chunk extension")]
    [TestCase("2;a b\r\n", "Invalid character 0x62 in chunk extension")]
    [TestCase("2;a \r\n", "Whitespace at the end of a chunk extension")]
    [TestCase("2;a=b \r\n", "Whitespace at the end of a chunk extension")]
    [TestCase("2;a=\u00E9\r\n", "Invalid character 0xE9 in chunk extension")]
    [TestCase("2;a=\"b\u0001\"\r\n", "Invalid control character 0x01 in chunk extension")]
    [TestCase("2;a=\"b\rc\"\r\n", "Unterminated quoted string in chunk extension")]
    [TestCase("4\rX", "Bare CR in chunk size line")]
    [TestCase("4;a\rb\r\n", "Bare CR in chunk size line")]
    [TestCase("4;a\u0001\r\n", "Invalid control character 0x01 in chunk extension")]
    [TestCase("4;a\0\r\n", "Invalid control character 0x00 in chunk extension")]
    [TestCase("8000000000000000\r\n", "Chunk size is too large")]
    [TestCase("ffffffffffffffff\r\n", "Chunk size is too large")]
    [TestCase("123456789abcdef01\r\n", "Chunk size is too large")]
    [TestCase("00000000000000000008000000000000000\r\n", "Chunk size is too large")]
    [TestCase("4\r\nWikiX\r\n", "Missing CRLF after chunk data")]
    [TestCase("4\r\nWiki\rX", "Missing CRLF after chunk data (bare CR)")]
    [TestCase("4\r\nWikipedia\r\n", "Missing CRLF after chunk data")]
    [TestCase("0\r\nBad Name: x\r\n\r\n", "Invalid trailer: Whitespace in header name")]
    [TestCase("0\r\nBad : x\r\n\r\n", "Invalid trailer: Whitespace between header name and colon")]
    [TestCase("0\r\nA: b\r\n folded\r\n\r\n", "Invalid trailer: obs-fold is not allowed")]
    [TestCase("0\r\nA: b\0\r\n\r\n", "Invalid trailer: NUL in value of header 'A'")]
    [TestCase("0\r\nA: b\rc\r\n\r\n", "Invalid trailer: Bare CR in value of header 'A'")]
    [TestCase("0\r\n: b\r\n\r\n", "Invalid trailer: Empty header name")]
    [TestCase("0\r\nNoColon\r\n\r\n", "Invalid trailer: Header line has no colon")]
    [TestCase("0\r\n\rX\r\n", "Invalid trailer: Bare CR in header name")]
    public void Invalid_bodies_throw_payload_errors(string wire, string message)
    {
        // Whole, byte by byte and split in two anywhere must fail the same way: the state machine may not lose
        // track across calls.
        byte[] bytes = Bytes.Of(wire);
        var feeds = new List<byte[][]> { new[] { bytes }, bytes.Select(b => new[] { b }).ToArray() };
        for (int split = 0; split <= bytes.Length; split++) feeds.Add(new[] { bytes[..split], bytes[split..] });
        foreach (var pieces in feeds)
        {
            var ex = Assert.Throws<HttpParseException>(() => Run(new ChunkedDecoder(), pieces));
            Assert.That(ex!.Message, Does.Contain(message));
            Assert.That(ex.IsPayloadError, Is.True);
        }
    }

    // chunk-size = 1*HEXDIG (RFC 9112 §7.1): more than 16 digits is no overflow when the extra ones are leading
    // zeros, on a data chunk or the last chunk; they used to be "too large". aiohttp and HttpClient take them.
    [Test]
    public void Leading_zeros_of_any_count_are_a_valid_chunk_size_whole_split_and_byte_by_byte()
    {
        byte[] wire = Bytes.Of("0000000000000000000000000004\r\nWiki\r\n0000000000000000000000000000000000\r\n\r\n" + Next);
        var feeds = new List<byte[][]> { new[] { wire }, wire.Select(b => new[] { b }).ToArray() };
        for (int split = 0; split <= wire.Length; split++) feeds.Add(new[] { wire[..split], wire[split..] });
        foreach (var pieces in feeds)
        {
            var o = Run(new ChunkedDecoder(), pieces);
            Assert.That((o.Done, o.Data, o.ConsumedTotal), Is.EqualTo((true, "Wiki", wire.Length - Next.Length)));
        }
        // Still bounded: zeros past the size line's limit fail as any long line does.
        var ex = Assert.Throws<HttpParseException>(() => Run(new ChunkedDecoder(new HttpParserLimits { MaxLineSize = 20 }), new[] { Bytes.Of(new string('0', 21)) }));
        Assert.That(ex!.Message, Is.EqualTo("Chunk size line is too long: limit 20 bytes"));
    }

    // ---- limits ----

    [Test]
    public void Size_line_exactly_at_max_line_size_is_accepted_and_one_more_byte_throws()
    {
        var limits = new HttpParserLimits { MaxLineSize = 20 };
        string atLimit = "3;" + new string('e', 18);
        Assert.That(atLimit, Has.Length.EqualTo(20));
        foreach (bool byteByByte in new[] { false, true })
        {
            byte[] ok = Bytes.Of(atLimit + "\r\nabc\r\n0\r\n\r\n");
            var o = Run(new ChunkedDecoder(limits), byteByByte ? ok.Select(b => new[] { b }) : new[] { ok });
            Assert.That((o.Done, o.Data), Is.EqualTo((true, "abc")));

            // No line end yet: the limit must still trip, so a peer cannot make us wait forever.
            byte[] over = Bytes.Of(atLimit + "e");
            var ex = Assert.Throws<HttpParseException>(() => Run(new ChunkedDecoder(limits), byteByByte ? over.Select(b => new[] { b }) : new[] { over }));
            Assert.That(ex!.Message, Is.EqualTo("Chunk size line is too long: limit 20 bytes"));
            Assert.That(ex.IsPayloadError, Is.True);
        }
    }

    [Test]
    public void A_bad_byte_past_max_line_size_is_reported_as_too_long_whole_split_anywhere_and_byte_by_byte()
    {
        // Found by the fuzzer: checked only at the line's end, the whole line reported its bad byte and the same line
        // split before that byte reported its length.
        var limits = new HttpParserLimits { MaxLineSize = 20 };
        foreach (var bad in new[] { "\f", "\u007f", "\"", "(" })
        {
            byte[] line = Bytes.Of("3;" + new string('e', 20) + bad + "e\r\nabc\r\n0\r\n\r\n");
            var ways = new List<IEnumerable<byte[]>> { new[] { line }, line.Select(b => new[] { b }) };
            for (var cut = 1; cut < line.Length; cut++) ways.Add(new[] { line[..cut], line[cut..] });
            foreach (var pieces in ways)
            {
                var ex = Assert.Throws<HttpParseException>(() => Run(new ChunkedDecoder(limits), pieces));
                Assert.That(ex!.Message, Is.EqualTo("Chunk size line is too long: limit 20 bytes"), $"bad byte {(int)bad[0]:X2}");
            }
        }
        // Before the limit, the bad byte is what is reported, however the line comes.
        byte[] early = Bytes.Of("3;e\fe\r\nabc\r\n0\r\n\r\n");
        foreach (var pieces in new[] { new[] { early }, early.Select(b => new[] { b }) })
            Assert.That(Assert.Throws<HttpParseException>(() => Run(new ChunkedDecoder(limits), pieces))!.Message, Is.EqualTo("Invalid control character 0x0C in chunk extension"));
    }

    [Test]
    public void One_trailer_too_many_is_reported_before_its_length_however_it_comes()
    {
        var limits = new HttpParserLimits { MaxHeaders = 1, MaxFieldSize = 8 };
        byte[] body = Bytes.Of("0\r\nA: 1\r\nB: 123456789\r\n\r\n");
        var ways = new List<IEnumerable<byte[]>> { new[] { body }, body.Select(b => new[] { b }) };
        for (var cut = 1; cut < body.Length; cut++) ways.Add(new[] { body[..cut], body[cut..] });
        foreach (var pieces in ways)
            Assert.That(Assert.Throws<HttpParseException>(() => Run(new ChunkedDecoder(limits), pieces))!.Message, Is.EqualTo("Too many trailers: limit 1"));
    }

    [Test]
    public void Whitespace_after_the_size_counts_towards_max_line_size()
    {
        var limits = new HttpParserLimits { MaxLineSize = 5 };
        var ex = Assert.Throws<HttpParseException>(() => RunWhole("3      ", limits));
        Assert.That(ex!.Message, Is.EqualTo("Chunk size line is too long: limit 5 bytes"));
        Assert.That(RunWhole("3  ;x\r\nabc\r\n0\r\n\r\n", limits).Data, Is.EqualTo("abc"));
    }

    [Test]
    public void Trailer_line_exactly_at_max_field_size_is_accepted_and_one_more_byte_throws()
    {
        var limits = new HttpParserLimits { MaxFieldSize = 12 };
        foreach (bool byteByByte in new[] { false, true })
        {
            byte[] ok = Bytes.Of("0\r\nX: 123456789\r\n\r\n");
            var o = Run(new ChunkedDecoder(limits), byteByByte ? ok.Select(b => new[] { b }) : new[] { ok });
            Assert.That(o.Trailers, Is.EqualTo(new[] { new KeyValuePair<string, string>("X", "123456789") }));

            // Exactly at the limit with the CR of the terminator pending is still fine.
            Assert.That(Run(new ChunkedDecoder(limits), new[] { Bytes.Of("0\r\nX: 123456789\r") }).Done, Is.False);

            byte[] over = Bytes.Of("0\r\nX: 1234567890");
            var ex = Assert.Throws<HttpParseException>(() => Run(new ChunkedDecoder(limits), byteByByte ? over.Select(b => new[] { b }) : new[] { over }));
            Assert.That(ex!.Message, Is.EqualTo("Trailer line is too long: limit 12 bytes"));
            Assert.That(ex.IsPayloadError, Is.True);
        }
    }

    [Test]
    public void Exactly_max_headers_trailers_are_accepted_and_one_more_throws()
    {
        var limits = new HttpParserLimits { MaxHeaders = 3 };
        const string three = "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n";
        var o = RunWhole(three + "\r\n", limits);
        Assert.That(o.Trailers.Select(t => t.Key), Is.EqualTo(new[] { "A", "B", "C" }));
        Assert.That(RunWhole(three + "\r", limits).Done, Is.False);

        foreach (string tail in new[] { "D: 4\r\n\r\n", "D" })
        {
            var ex = Assert.Throws<HttpParseException>(() => RunWhole(three + tail, limits));
            Assert.That(ex!.Message, Is.EqualTo("Too many trailers: limit 3"));
            Assert.That(ex.IsPayloadError, Is.True);
        }
    }
}
