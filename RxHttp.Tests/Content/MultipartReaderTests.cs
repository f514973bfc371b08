using System.Reactive.Linq;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary><see cref="ClientResponse.Multipart"/> and <see cref="MultipartReader"/>: multipart bodies read back into parts.</summary>
[TestFixture]
public class MultipartReaderTests
{
    private const string Type = "multipart/mixed; boundary=\"b0und\"";

    // A preamble, padding after a boundary, content holding CRLF and most of a delimiter, an empty part, an epilogue.
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        "This is the preamble.\r\n" +
        "--b0und  \t\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Disposition: form-data; name=\"note\"\r\n" +
        "\r\n" +
        "line one\r\n--b0un line two é\r\n" +
        "--b0und\r\n" +
        "\r\n" +
        "\r\n" +
        "--b0und\r\n" +
        "Content-Type: application/json\r\n" +
        "\r\n" +
        "{\"a\":1}\r\n" +
        "--b0und--\r\n" +
        "This is the epilogue, --b0und\r\n");

    private static void AssertParts(IList<ReceivedPart> parts, string because = "")
    {
        Assert.That(parts, Has.Count.EqualTo(3), because);
        Assert.That(parts[0].Text(), Is.EqualTo("line one\r\n--b0un line two é"), because);
        Assert.That(parts[0].Name, Is.EqualTo("note"), because);
        Assert.That(parts[0].ContentType, Is.EqualTo("text/plain"), because);
        Assert.That(parts[1].Content, Is.Empty, because);
        Assert.That(parts[1].Headers.Count, Is.Zero, because);
        Assert.That(parts[1].ContentType, Is.EqualTo("text/plain"), "RFC 2046's default");
        Assert.That(parts[2].Json<Dictionary<string, int>>()!["a"], Is.EqualTo(1), because);
    }

    private static List<ReceivedPart> Feed(IEnumerable<byte[]> pieces, int maxPartSize = MultipartReader.DefaultMaxPartSize)
    {
        var parser = new MultipartParser("b0und", maxPartSize);
        var parts = new List<ReceivedPart>();
        foreach (var p in pieces) parser.Push(p, parts);
        parser.Complete();
        return parts;
    }

    [Test]
    public void Whole_body_parses()
    {
        AssertParts(MultipartReader.Parse(Body, Type).ToList());
    }

    [Test]
    public void Every_split_of_the_bytes_gives_the_same_parts()
    {
        AssertParts(Feed(Body.Select(b => new[] { b })), "one byte at a time");
        for (var i = 0; i <= Body.Length; i += 1)
        for (var j = i; j <= Body.Length; j += 3)
            AssertParts(Feed([Body[..i], Body[i..j], Body[j..]]), $"split at {i} and {j}");
    }

    [Test]
    public void A_part_is_handed_out_as_soon_as_its_delimiter_arrives()
    {
        var parser = new MultipartParser("b0und", 1 << 20);
        var parts = new List<ReceivedPart>();
        parser.Push("--b0und\r\n\r\nfirst"u8, parts);
        Assert.That(parts, Is.Empty);
        parser.Push("\r\n--b0und\r\n\r\nsecond"u8, parts);
        Assert.That(parts.Select(p => p.Text()), Is.EqualTo(new[] { "first" }));
        parser.Push("\r\n--b0und--"u8, parts);
        Assert.That(parts.Select(p => p.Text()), Is.EqualTo(new[] { "first", "second" }));
        Assert.That(parser.Ended);
    }

    [Test]
    public void Malformed_bodies_are_ClientPayloadErrors()
    {
        static void Bad(string body, string message, int max = 1 << 20) =>
            Assert.That(() => MultipartReader.Parse(Encoding.UTF8.GetBytes(body), Type, max),
                Throws.TypeOf<ClientPayloadError>().With.Message.Contains(message), body);
        Bad("", "no boundary line");
        Bad("no delimiter at all", "no boundary line");
        Bad("--b0und\r\n\r\ntruncated", "ended before its closing boundary");
        Bad("--b0und\r\n\r\nwhole\r\n--b0und\r\n", "ended before its closing boundary");
        Bad("--b0und junk\r\n\r\n\r\n--b0und--", "not followed by CRLF");
        Bad("--b0und\r\nNo colon here\r\n\r\n\r\n--b0und--", "no name");
        Bad("--b0und\r\nA: 1\r\n folded\r\n\r\n\r\n--b0und--", "obs-fold");
        Bad("--b0und\r\nA\u0001: 1\r\n\r\n\r\n--b0und--", "not a token");
        Bad("--b0und\r\nA: x\ny\r\n\r\n\r\n--b0und--", "bare CR, LF or NUL");
        Bad("--b0und\r\n\r\n12345\r\n--b0und--", "larger than 4 bytes", max: 4);
        Bad("--b0und\r\nX: " + new string('x', 9000) + "\r\n\r\n\r\n--b0und--", "longer than 8190 bytes");
        Assert.That(MultipartReader.Parse("--b0und\r\n\r\n1234\r\n--b0und--"u8, Type, 4)[0].Text(), Is.EqualTo("1234"), "exactly the limit");
    }

    [Test]
    public void A_part_that_is_not_UTF8_fails_Text_unless_given_its_encoding()
    {
        var body = System.Text.Encoding.Latin1.GetBytes("--b0und\r\nContent-Type: text/plain\r\n\r\ncaf\u00e9\r\n--b0und--");
        var part = MultipartReader.Parse(body, Type, 1024)[0];
        var e = Assert.Throws<TextDecodeError>(() => part.Text());
        Assert.That(e!.Offset, Is.EqualTo(3));
        Assert.That(part.Text(System.Text.Encoding.Latin1), Is.EqualTo("caf\u00e9"));
    }

    [Test]
    public void A_part_over_the_limit_fails_before_its_end_arrives()
    {
        var parser = new MultipartParser("b0und", 1000);
        var parts = new List<ReceivedPart>();
        parser.Push("--b0und\r\n\r\n"u8, parts);
        Assert.That(() => { for (var i = 0; i < 10; i++) parser.Push(new byte[500], parts); }, Throws.TypeOf<ClientPayloadError>());
    }

    [Test]
    public void A_part_name_comes_from_name_star_or_its_continuations_first()
    {
        static string? NameOf(string disposition) =>
            MultipartReader.Parse(Encoding.ASCII.GetBytes($"--b0und\r\nContent-Disposition: {disposition}\r\n\r\nx\r\n--b0und--"), Type)[0].Name;
        Assert.That(NameOf("form-data; name=\"plain\""), Is.EqualTo("plain"));
        Assert.That(NameOf("form-data; name*=utf-8''%C3%BCber; filename=\"f\""), Is.EqualTo("über"), "RFC 8187, as aiohttp writes it");
        Assert.That(NameOf("form-data; name=\"fallback\"; name*=utf-8''%E2%82%AC"), Is.EqualTo("€"), "the extended form wins");
        Assert.That(NameOf("form-data; name*0*=utf-8''%E2%82; name*1*=%AC; name*2=\"-1\""), Is.EqualTo("€-1"), "RFC 2231 continuations");
        Assert.That(NameOf("form-data; filename*=utf-8''f.txt"), Is.Null, "filename* is not a name");
    }

    [Test]
    public void Boundaries_from_content_types()
    {
        Assert.That(MultipartReader.BoundaryOf("multipart/form-data; boundary=abc"), Is.EqualTo("abc"));
        Assert.That(MultipartReader.BoundaryOf("Multipart/Mixed; charset=utf-8; BOUNDARY=\"a b:c\""), Is.EqualTo("a b:c"));
        Assert.That(MultipartReader.BoundaryOf("text/plain; boundary=abc"), Is.Null);
        Assert.That(MultipartReader.BoundaryOf("multipart/mixed"), Is.Null);
        Assert.That(MultipartReader.BoundaryOf("multipart/mixed; boundary=\"\""), Is.Null);
        Assert.That(MultipartReader.BoundaryOf("multipart/mixed; boundary=" + new string('x', 71)), Is.Null, "RFC 2046: at most 70");
    }

    [Test]
    public async Task Our_writer_echoed_by_a_server_reads_back()
    {
        await using var server = await KestrelServer.StartAsync(app => app.MapPost("/mirror", async (HttpContext c) =>
        {
            c.Response.ContentType = c.Request.ContentType;
            await c.Request.Body.CopyToAsync(c.Response.Body);
        }));
        var file = new byte[300_000];
        new Random(3).NextBytes(file);
        var form = new FormData();
        form.AddField("title", "naïve €");
        form.AddField("file", new MemoryStream(file), contentType: "application/octet-stream", filename: "data €.bin");
        using var session = new ClientSession();
        var parts = await session.Post(server.Url("mirror"), new() { Data = form }).SelectMany(r => r.Multipart()).ToList();
        Assert.That(parts.Select(p => p.Name), Is.EqualTo(new[] { "title", "file" }));
        Assert.That(parts[0].Text(), Is.EqualTo("naïve €"));
        Assert.That(parts[1].FileName, Is.EqualTo("data €.bin"));
        Assert.That(parts[1].Content, Is.EqualTo(file));
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1), "the connection went back to the pool");
    }

    [Test]
    public async Task A_body_from_a_socket_that_sends_one_byte_at_a_time()
    {
        var head = $"HTTP/1.1 200 OK\r\nContent-Type: {Type}\r\nContent-Length: {Body.Length}\r\n\r\n";
        await using var server = RawServer.Respond(head + Encoding.Latin1.GetString(Body), dribble: true);
        using var session = new ClientSession();
        AssertParts(await session.Get(server.Url()).SelectMany(r => r.Multipart()).ToList());
        var pulled = new List<ReceivedPart>();
        var response = await session.Get(server.Url());
        await foreach (var part in response.IterMultipart()) pulled.Add(part);
        AssertParts(pulled);
        var cached = await session.Get(server.Url());
        await cached.Read();
        AssertParts(await cached.Multipart().ToList(), "after Read(), from the cached body");
    }

    [Test]
    public async Task Not_multipart_is_a_ContentTypeError_and_truncated_a_ClientPayloadError()
    {
        await using var server = await KestrelServer.StartAsync(app => app.MapGet("/cut", (HttpContext c) =>
        {
            c.Response.ContentType = Type;
            return c.Response.WriteAsync("--b0und\r\n\r\nno end");
        }));
        using var session = new ClientSession();
        var notMultipart = Assert.ThrowsAsync<ContentTypeError>(async () => await session.Get(server.Url("hello")).SelectMany(r => r.Multipart()));
        Assert.That(notMultipart!.Message, Does.Contain("text/plain"));
        Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get(server.Url("cut")).SelectMany(r => r.Multipart()).ToList());
        await Wait.Until(() => session.Connector.CurrentState.InUse == 0, what: "both responses to be released");
    }
}
