using System.IO.Compression;
using System.Reactive.Linq;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary><see cref="ClientResponse.Lines"/> and <see cref="ClientResponse.IterLines"/>: aiohttp's line iteration of a body.</summary>
[TestFixture]
public class LinesTests
{
    // CRLF and LF endings, an empty line, two- and three-byte UTF-8 characters, a last line without LF.
    private const string Text = "alpha\r\nbeta\n\nγάμμα €\r\nlast";
    private static readonly string[] Expected = ["alpha", "beta", "", "γάμμα €", "last"];

    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.MapGet("/ndjson/{n:int}", async (HttpContext c, int n) =>
        {
            c.Response.ContentType = "application/x-ndjson";
            for (var i = 0; i < n; i++) await c.Response.WriteAsync($"{{\"i\":{i}}}\n");
        });
        app.MapGet("/ndjson-gzip", async (HttpContext c) =>
        {
            using var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
                for (var i = 0; i < 1000; i++) gz.Write(Encoding.UTF8.GetBytes($"{{\"i\":{i}}}\n"));
            c.Response.Headers.ContentEncoding = "gzip";
            c.Response.ContentType = "application/x-ndjson";
            await c.Response.Body.WriteAsync(ms.ToArray());
        });
        app.MapGet("/latin1-lines", (HttpContext c) =>
        {
            c.Response.ContentType = "text/plain; charset=iso-8859-1";
            return c.Response.Body.WriteAsync(Encoding.Latin1.GetBytes("caf\u00e9\nna\u00efve\n")).AsTask();
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private static List<string> Split(IEnumerable<byte[]> pieces, int max = ClientResponse.DefaultMaxLineLength, Encoding? encoding = null)
    {
        var splitter = new LineSplitter(encoding ?? Encoding.UTF8, max);
        var lines = new List<string>();
        foreach (var p in pieces) splitter.Push(p, lines);
        splitter.Complete(lines);
        return lines;
    }

    [Test]
    public void Every_split_of_the_bytes_gives_the_same_lines()
    {
        var bytes = Encoding.UTF8.GetBytes(Text);
        Assert.That(Split([bytes]), Is.EqualTo(Expected));
        Assert.That(Split(bytes.Select(b => new[] { b })), Is.EqualTo(Expected), "one byte at a time");
        for (var i = 0; i <= bytes.Length; i++)
        for (var j = i; j <= bytes.Length; j++)
        {
            var lines = Split([bytes[..i], bytes[i..j], bytes[j..]]);
            Assert.That(lines, Is.EqualTo(Expected), $"split at {i} and {j}");
        }
    }

    [Test]
    public void Endings_and_empty_bodies()
    {
        List<string> Of(string s) => Split([Encoding.UTF8.GetBytes(s)]);
        Assert.That(Of(""), Is.Empty);
        Assert.That(Of("\n"), Is.EqualTo(new[] { "" }));
        Assert.That(Of("a\n"), Is.EqualTo(new[] { "a" }), "no empty line after a final LF");
        Assert.That(Of("a\n\n"), Is.EqualTo(new[] { "a", "" }));
        Assert.That(Of("a\rb\r\n"), Is.EqualTo(new[] { "a\rb" }), "only a CR right before LF ends a line");
        Assert.That(Of("\r\n\r\n"), Is.EqualTo(new[] { "", "" }));
    }

    [Test]
    public void A_line_over_the_limit_is_a_ClientPayloadError_and_a_CR_before_LF_does_not_count()
    {
        Assert.That(Split([Encoding.UTF8.GetBytes("12345\r\n123\n")], max: 5), Is.EqualTo(new[] { "12345", "123" }));
        Assert.Throws<ClientPayloadError>(() => Split([Encoding.UTF8.GetBytes("123456\n")], max: 5));
        Assert.Throws<ClientPayloadError>(() => Split([Encoding.UTF8.GetBytes("123456")], max: 5), "a last line without LF");
        // Found while the bytes arrive, not only at the LF: a server that never sends one cannot grow the buffer.
        var splitter = new LineSplitter(Encoding.UTF8, 5);
        var lines = new List<string>();
        splitter.Push("123"u8, lines);
        Assert.Throws<ClientPayloadError>(() => splitter.Push("4567"u8, lines));
    }

    [Test]
    public void A_character_the_decoder_cannot_read_becomes_a_replacement_character_as_in_Text()
    {
        Assert.That(Split([[0x61, 0xC3], [0x0A, 0x62]]), Is.EqualTo(new[] { "a\uFFFD", "b" }));
        Assert.That(Split([[0x61, 0xE2, 0x82]]), Is.EqualTo(new[] { "a\uFFFD" }), "a character cut off by the end of the body");
    }

    [Test]
    public async Task Lines_over_a_socket_that_sends_one_byte_at_a_time()
    {
        // Chunked framing with chunk boundaries inside the CRLF and inside the three-byte euro sign.
        var bytes = Encoding.UTF8.GetBytes(Text);
        var cuts = new[] { 0, 6, 19, bytes.Length };
        var body = new StringBuilder();
        for (var k = 0; k + 1 < cuts.Length; k++)
            body.Append($"{cuts[k + 1] - cuts[k]:x}\r\n").Append(Encoding.Latin1.GetString(bytes, cuts[k], cuts[k + 1] - cuts[k])).Append("\r\n");
        body.Append("0\r\n\r\n");
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n" + body, dribble: true);
        using var session = new ClientSession();
        var lines = await session.Get(server.Url()).SelectMany(r => r.Lines()).ToList();
        Assert.That(lines, Is.EqualTo(Expected));
        var pulled = new List<string>();
        var response = await session.Get(server.Url());
        await foreach (var line in response.IterLines()) pulled.Add(line);
        Assert.That(pulled, Is.EqualTo(Expected));
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "the connection went back to the pool after the last line");
    }

    [Test]
    public async Task Ndjson_lines_arrive_in_order_and_free_the_connection()
    {
        using var session = new ClientSession();
        var lines = await session.Get(_server.Url("ndjson/2000")).SelectMany(r => r.Lines()).ToList();
        Assert.That(lines, Has.Count.EqualTo(2000));
        Assert.That(lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("i").GetInt32()), Is.EqualTo(Enumerable.Range(0, 2000)));
        Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(1).And.Property("InUse").EqualTo(0));
    }

    [Test]
    public async Task Lines_are_decompressed_and_decoded_with_the_charset()
    {
        using var session = new ClientSession();
        var lines = await session.Get(_server.Url("ndjson-gzip")).SelectMany(r => r.Lines()).ToList();
        Assert.That(lines, Has.Count.EqualTo(1000));
        Assert.That(lines[999], Is.EqualTo("{\"i\":999}"));
        Assert.That(await session.Get(_server.Url("latin1-lines")).SelectMany(r => r.Lines()).ToList(), Is.EqualTo(new[] { "café", "naïve" }));
        Assert.That(await session.Get(_server.Url("latin1-lines")).SelectMany(r => r.Lines(Encoding.UTF8)).ToList(),
            Is.EqualTo(new[] { "caf\uFFFD", "na\uFFFDve" }), "an explicit encoding wins over the charset");
    }

    [Test]
    public async Task After_Read_the_lines_come_from_the_cached_body()
    {
        using var session = new ClientSession();
        var response = await session.Get(_server.Url("ndjson/3"));
        await response.Read();
        Assert.That(await response.Lines().ToList(), Is.EqualTo(new[] { "{\"i\":0}", "{\"i\":1}", "{\"i\":2}" }));
    }

    [Test]
    public async Task Taking_a_few_lines_of_an_endless_stream_closes_its_connection()
    {
        using var session = new ClientSession();
        var lines = await session.Get(_server.Url("endless")).SelectMany(r => r.Lines()).Take(3).ToList();
        Assert.That(lines, Is.EqualTo(new[] { "line 0", "line 1", "line 2" }));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0 }, what: "the connection to close");
    }

    [Test]
    public async Task A_line_too_long_on_the_wire_fails_with_ClientPayloadError_and_closes_the_connection()
    {
        using var session = new ClientSession();
        var error = Assert.ThrowsAsync<ClientPayloadError>(async () =>
            await session.Get(_server.Url("endless")).SelectMany(r => r.Lines(maxLineLength: 4)).ToList());
        Assert.That(error!.Message, Does.Contain("Line is too long"));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0 }, what: "the connection to close");
    }
}
