using System.Text;
using NUnit.Framework;

namespace RxHttp.Tests.Content;

/// <summary>
/// The event stream interpretation of the WHATWG HTML standard (§9.2.6), fed whole, one byte at a time and split at
/// every pair of boundaries: the standard's own examples, every line end, the BOM, ids, retry and the limits.
/// </summary>
[TestFixture]
public class EventStreamParserTests
{
    private static (List<ServerSentEvent> Events, EventStreamParser Parser) Parse(int max, params byte[][] pieces)
    {
        var parser = new EventStreamParser(max);
        var output = new List<ServerSentEvent>();
        foreach (var piece in pieces) parser.Push(piece, output);
        parser.Complete(output);
        return (output, parser);
    }

    private static List<ServerSentEvent> Parse(string text) => Parse(1 << 20, Encoding.UTF8.GetBytes(text)).Events;

    // Every way of cutting the bytes in three gives the same events as the whole.
    private static void AtEverySplit(byte[] bytes, IReadOnlyList<ServerSentEvent> expected)
    {
        for (var i = 0; i <= bytes.Length; i++)
        for (var j = i; j <= bytes.Length; j++)
            Assert.That(Parse(1 << 20, bytes[..i], bytes[i..j], bytes[j..]).Events, Is.EqualTo(expected), $"cut at {i} and {j}");
    }

    [Test]
    public void The_standards_stock_example_joins_data_lines_with_line_feeds()
    {
        Assert.That(Parse("data: YHOO\ndata: +2\ndata: 10\n\n"), Is.EqualTo(new[] { new ServerSentEvent("message", "YHOO\n+2\n10") }));
    }

    [Test]
    public void The_standards_blocks_an_empty_data_a_line_feed_and_a_block_cut_off_by_the_end()
    {
        Assert.That(Parse("data\n\ndata\ndata\n\ndata:"), Is.EqualTo(new[]
        {
            new ServerSentEvent("message", ""), new ServerSentEvent("message", "\n"),
        }));
        Assert.That(Parse("data:test\n\ndata: test\n\n").Select(e => e.Data), Is.EqualTo(new[] { "test", "test" }), "one space after the colon goes");
        Assert.That(Parse("data:  two\n\n")[0].Data, Is.EqualTo(" two"), "only one");
    }

    [Test]
    public void Every_line_end_is_one_and_any_split_gives_the_same_events()
    {
        var bytes = Encoding.UTF8.GetBytes(": hi\r\nevent: add\rdata: 1€\r\n\ndata: 2\r\rid: 7\nretry: 2500\n\n");
        ServerSentEvent[] expected =
        [
            new("add", "1€"),
            new("message", "2"),
        ];
        AtEverySplit(bytes, expected);
        var (_, parser) = Parse(1 << 20, bytes);
        Assert.That((parser.LastEventId, parser.Retry), Is.EqualTo(("7", (TimeSpan?)TimeSpan.FromMilliseconds(2500))),
            "an id and retry without data change the state, dispatching nothing");
    }

    [Test]
    public void A_leading_BOM_is_dropped_once_wherever_the_bytes_are_cut()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("data: a\n\ndata: \uFEFFb\n\n")];
        AtEverySplit(bytes, [new("message", "a"), new("message", "\uFEFFb")]);
        Assert.That(Parse(16, [0xEF, 0xBB], Encoding.ASCII.GetBytes("data:x\n\n")).Events, Is.Empty,
            "a BOM that does not complete is text: the field is then named EF BB 'data', which is no field");
    }

    [Test]
    public void The_id_and_retry_outlive_events_and_follow_the_standards_rules()
    {
        var events = Parse("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: x\0y\ndata: d\n\nretry: 10a\ndata: e\n\nretry: 150\nretry:\ndata: f\n\n");
        Assert.That(events.Select(e => (e.Data, e.Id)), Is.EqualTo(new[] { ("a", "1"), ("b", "1"), ("c", ""), ("d", ""), ("e", ""), ("f", "") }),
            "an id with NUL is ignored; an empty id clears it");
        Assert.That(events.Select(e => e.Retry), Is.EqualTo(new TimeSpan?[] { null, null, null, null, null, TimeSpan.FromMilliseconds(150) }),
            "only ASCII digits set the reconnection time");
    }

    [Test]
    public void A_retry_with_leading_zeros_is_its_digits_value_not_the_clamp_for_huge_ones()
    {
        Assert.That(Parse(1 << 20, Encoding.ASCII.GetBytes("retry: 000000000000000000005\n")).Parser.Retry, Is.EqualTo(TimeSpan.FromMilliseconds(5)));
        Assert.That(Parse(1 << 20, Encoding.ASCII.GetBytes("retry: 00000000000000\n")).Parser.Retry, Is.EqualTo(TimeSpan.Zero));
        Assert.That(Parse(1 << 20, Encoding.ASCII.GetBytes("retry: 99999999999999999999\n")).Parser.Retry, Is.EqualTo(TimeSpan.FromMilliseconds(999_999_999_999)));
    }

    [Test]
    public void Field_names_are_exact_unknown_ones_and_comments_are_skipped_and_an_empty_event_is_a_message()
    {
        var events = Parse("Data: no\ndata\t: no\nfoo: bar\n:comment\nevent:\ndata: yes\n\nevent: x\n\ndata: after\n\n");
        Assert.That(events, Is.EqualTo(new[] { new ServerSentEvent("message", "yes"), new ServerSentEvent("message", "after") }),
            "a block without data dispatches nothing and its event type does not carry over");
    }

    [Test]
    public void Bytes_that_are_not_UTF8_become_replacement_characters()
    {
        var (events, _) = Parse(64, [.. Encoding.ASCII.GetBytes("data: a"), 0xFF, 0xE2, 0x82, .. Encoding.ASCII.GetBytes("\n\n")]);
        Assert.That(events.Single().Data, Is.EqualTo("a\uFFFD\uFFFD"));
    }

    [Test]
    public void A_line_or_an_events_data_over_the_limit_fails_with_ClientPayloadTooLargeError()
    {
        var line = Assert.Throws<ClientPayloadTooLargeError>(() => Parse(8, Encoding.ASCII.GetBytes("data: 123")));
        Assert.That(line!.Limit, Is.EqualTo(8));
        Assert.That(line, Is.InstanceOf<ClientPayloadError>());
        Assert.Throws<ClientPayloadTooLargeError>(() => Parse(8, Encoding.ASCII.GetBytes("data:123\ndata:123\ndata:123\n")), "lines within the limit, their data over it");
        Assert.That(Parse(8, Encoding.ASCII.GetBytes("data:12\n\n")).Events.Single().Data, Is.EqualTo("12"));
    }
}
