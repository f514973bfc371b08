using System.Text;
using NUnit.Framework;
using RxHttp.Http1;

namespace RxHttp.Tests.Http1;

/// <summary>
/// The response-head read loop the exchange, the websocket handshake and the CONNECT tunnel share, driven here by a
/// scripted peer that delivers the bytes in given pieces (a piece of 0 bytes is the peer closing).
/// </summary>
public class ResponseHeadReaderTests
{
    private const string Head = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-A: 1\r\n\r\n";

    /// <summary>Runs the loop as its users write it, over <paramref name="pieces"/>; returns the reader and what stayed buffered.</summary>
    private static (ResponseHeadReader Reader, string Left, bool Closed, int Reads) Read(IHttpResponseHeadHandler handler, params string[] pieces)
    {
        var buffered = new List<byte>();
        var reader = new ResponseHeadReader(handler, HttpParserLimits.Default);
        var reads = 0;
        while (!reader.TryParse(buffered.ToArray()))
        {
            var piece = reads < pieces.Length ? Encoding.ASCII.GetBytes(pieces[reads]) : [];
            reads++;
            if (!reader.Received(piece.Length)) return (reader, Encoding.ASCII.GetString(buffered.ToArray()), true, reads);
            buffered.AddRange(piece);
        }
        return (reader, Encoding.ASCII.GetString(buffered.ToArray(), reader.Consumed, buffered.Count - reader.Consumed), false, reads);
    }

    [Test]
    public void A_head_in_one_read_is_parsed_after_that_read_and_leaves_the_body_buffered()
    {
        var handler = new RecordingHeadHandler();
        var (reader, rest, closed, reads) = Read(handler, Head + "body");
        Assert.That((closed, reads, rest, reader.Consumed), Is.EqualTo((false, 1, "body", Head.Length)));
        Assert.That(handler.Describe(), Is.EqualTo("1.1 200 [OK] | Content-Length=[4] | X-A=[1]"));
    }

    [Test]
    public void A_head_split_at_every_place_gives_the_handler_the_same_calls_once()
    {
        var whole = new RecordingHeadHandler();
        Read(whole, Head + "body");
        for (var cut = 1; cut < Head.Length + 4; cut++)
        {
            var wire = Head + "body";
            var handler = new RecordingHeadHandler();
            var (reader, rest, closed, _) = Read(handler, wire[..cut], wire[cut..]);
            Assert.That(closed, Is.False, $"cut at {cut}");
            Assert.That(handler.Describe(), Is.EqualTo(whole.Describe()), $"cut at {cut}");
            Assert.That(reader.Consumed, Is.EqualTo(Head.Length), $"cut at {cut}");
            // Nothing is read once the head is complete: what came with its last piece stays buffered, the rest unread.
            Assert.That(rest, Is.EqualTo(cut < Head.Length ? "body" : wire[Head.Length..cut]), $"cut at {cut}");
        }
    }

    [Test]
    public void A_head_arriving_a_byte_at_a_time_takes_a_read_per_byte()
    {
        var handler = new RecordingHeadHandler();
        var (_, rest, closed, reads) = Read(handler, Head.Select(c => c.ToString()).ToArray());
        Assert.That((closed, reads, rest), Is.EqualTo((false, Head.Length, "")));
        Assert.That(handler.Status, Is.EqualTo(200));
    }

    [Test]
    public void A_close_before_any_byte_is_a_refusal_not_a_cut_head()
    {
        var handler = new RecordingHeadHandler();
        var (reader, _, closed, _) = Read(handler);
        Assert.That((closed, reader.Started, handler.Calls), Is.EqualTo((true, false, 0)));
    }

    [Test]
    public void A_close_in_the_middle_of_the_head_says_the_head_had_started_and_reports_nothing()
    {
        var handler = new RecordingHeadHandler();
        var (reader, rest, closed, _) = Read(handler, "HTTP/1.1 200 OK\r\nContent-Len");
        Assert.That((closed, reader.Started, rest), Is.EqualTo((true, true, "HTTP/1.1 200 OK\r\nContent-Len")));
        Assert.That(handler.Calls, Is.Zero, "an incomplete head reports nothing");
    }

    [Test]
    public void A_malformed_head_fails_as_soon_as_it_is_read()
    {
        var handler = new RecordingHeadHandler();
        var e = Assert.Throws<HttpParseException>(() => Read(handler, "HTTP/1.1 2x0 OK\r\n", "\r\n"));
        Assert.That(e!.Message, Does.Contain("status"));
    }

    [Test]
    public void Two_heads_back_to_back_are_read_one_reader_each_like_a_100_continue_before_the_answer()
    {
        var bytes = Encoding.ASCII.GetBytes("HTTP/1.1 100 Continue\r\n\r\n" + Head);
        var first = new RecordingHeadHandler();
        var reader = new ResponseHeadReader(first, HttpParserLimits.Default);
        Assert.That(reader.TryParse(bytes), Is.True);
        var second = new RecordingHeadHandler();
        var next = new ResponseHeadReader(second, HttpParserLimits.Default);
        Assert.That(next.TryParse(bytes.AsSpan(reader.Consumed)), Is.True);
        Assert.That((first.Status, second.Status, reader.Consumed + next.Consumed), Is.EqualTo((100, 200, bytes.Length)));
    }

    [Test]
    public void The_buffer_may_grow_to_the_limits_head_buffer()
        => Assert.That(new ResponseHeadReader(new RecordingHeadHandler(), new HttpParserLimits { MaxFieldSize = 100, MaxHeaders = 10 }).MaxBuffer,
            Is.EqualTo(64 * 1024));

    // The largest head the limits accept: empty lines before the status line up to MaxLineSize, the status line and
    // every header line at their limits. A status-line limit above the field limit used to be left out of the room.
    [TestCase(8190, 8190, 128)]
    [TestCase(200_000, 100, 2)]
    [TestCase(100, 50_000, 3)]
    public void The_buffer_holds_the_largest_head_the_limits_accept(int lineSize, int fieldSize, int headers)
    {
        var limits = new HttpParserLimits { MaxLineSize = lineSize, MaxFieldSize = fieldSize, MaxHeaders = headers };
        var head = new StringBuilder(new string('\n', lineSize));
        head.Append("HTTP/1.1 200 ").Append('r', lineSize - 13).Append("\r\n");
        for (var i = 0; i < headers; i++) head.Append($"X-{i:D4}: ").Append('v', fieldSize - 8).Append("\r\n");
        var bytes = Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
        Assert.That(HttpResponseParser.TryParseHead(bytes, new RecordingHeadHandler(), limits, out var consumed), Is.True);
        Assert.That(consumed, Is.EqualTo(bytes.Length));
        Assert.That(new ResponseHeadReader(new RecordingHeadHandler(), limits).MaxBuffer, Is.GreaterThanOrEqualTo(bytes.Length));
    }

    // int.MaxValue is how a caller lifts a limit; the product used to overflow into a 64 KiB buffer.
    [Test]
    public void Limits_raised_to_int_max_value_do_not_overflow_into_a_small_buffer()
        => Assert.That(new ResponseHeadReader(new RecordingHeadHandler(), new HttpParserLimits { MaxFieldSize = int.MaxValue }).MaxBuffer,
            Is.EqualTo(Array.MaxLength));
}
