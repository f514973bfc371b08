using System.IO.Compression;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// <see cref="ClientSessionOptions.MaxBodySize"/> and <see cref="RequestOptions.MaxBodySize"/>: the bound on buffered
/// reads, counted after decompression, against raw servers. Peak memory is measured in ResourceBoundsTests.
/// </summary>
[TestFixture]
public class MaxBodySizeTests
{
    private static RawServer Serve(string head, byte[] body) =>
        new(async c =>
        {
            while (await c.ReadRequestAsync() is not null) await c.WriteAsync(Encoding.Latin1.GetBytes(head).Concat(body).ToArray());
        });

    private static RawServer Length(byte[] body, string extra = "") =>
        Serve($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n{extra}\r\n", body);

    private static RawServer Chunked(byte[] body, string extra = "") =>
        Serve($"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n{extra}\r\n",
            Encoding.Latin1.GetBytes($"{body.Length:x}\r\n").Concat(body).Concat("\r\n0\r\n\r\n"u8.ToArray()).ToArray());

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize)) gz.Write(data);
        return ms.ToArray();
    }

    private static byte[] Bytes(int n) => Enumerable.Range(0, n).Select(i => (byte)('a' + i % 26)).ToArray();

    [Test]
    public void The_default_is_64_MiB_and_zero_turns_it_off()
    {
        Assert.That(new ClientSessionOptions().MaxBodySize, Is.EqualTo(64L * 1024 * 1024));
        Assert.That(ClientSessionOptions.DefaultMaxBodySize, Is.EqualTo(64L * 1024 * 1024));
        Assert.That(new RequestOptions().MaxBodySize, Is.Null, "a request falls back to the session's");
    }

    [Test]
    public async Task A_Content_Length_over_the_limit_fails_at_once_before_any_body_byte_is_read()
    {
        await using var server = Length(Bytes(1000));
        using var session = new ClientSession(new ClientSessionOptions { MaxBodySize = 999 });
        var response = await session.Get(server.Url());
        var error = Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await response.Read());
        Assert.That(error!.AnnouncedLength, Is.EqualTo(1000), "the announced length decided, not the bytes");
        Assert.That(error.Limit, Is.EqualTo(999));
        Assert.That(error, Is.InstanceOf<ClientPayloadError>());
        Assert.That(error.Message, Does.Contain("MaxBodySize (999 bytes)").And.Contain("Content-Length announces 1000"));
        Assert.That(response.Closed, Is.True);
        await server.ClientClosed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [TestCase(200, 200, true, TestName = "A chunked body exactly at the limit is read")]
    [TestCase(201, 200, false, TestName = "A chunked body one byte over the limit fails")]
    [TestCase(5000, 0, true, TestName = "MaxBodySize 0 turns the limit off")]
    public async Task A_chunked_body_is_counted_as_it_arrives(int size, long limit, bool reads)
    {
        await using var server = Chunked(Bytes(size));
        using var session = new ClientSession(new ClientSessionOptions { MaxBodySize = limit });
        if (reads)
        {
            Assert.That(await session.Get(server.Url()).SelectMany(r => r.Read()), Is.EqualTo(Bytes(size)));
            return;
        }
        var error = Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Read()));
        Assert.That(error!.AnnouncedLength, Is.Null);
        Assert.That(error.Message, Does.Contain($"MaxBodySize ({limit} bytes, counted after decompression)"));
    }

    [Test]
    public async Task A_gzip_body_is_limited_by_its_inflated_size_not_its_wire_size()
    {
        var zeros = new byte[1024 * 1024];
        var gz = Gzip(zeros);
        Assert.That(gz.Length, Is.LessThan(100 * 1024), "the wire size is far under the limit");
        await using var server = Length(gz, "Content-Encoding: gzip\r\n");
        using var session = new ClientSession(new ClientSessionOptions { MaxBodySize = 100 * 1024 });
        var error = Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Read()));
        Assert.That(error!.AnnouncedLength, Is.Null, "a compressed body's Content-Length is not its size");

        // The same body under a limit it fits reads whole.
        var read = await session.Get(server.Url(), new RequestOptions { MaxBodySize = zeros.Length }).SelectMany(r => r.Read());
        Assert.That(read, Has.Length.EqualTo(zeros.Length));
    }

    [TestCase("deflate")]
    [TestCase("br")]
    public async Task Every_coding_is_limited_after_decompression(string coding)
    {
        var body = new byte[256 * 1024];
        using var ms = new MemoryStream();
        using (Stream enc = coding == "br" ? new BrotliStream(ms, CompressionLevel.SmallestSize) : new ZLibStream(ms, CompressionLevel.SmallestSize)) enc.Write(body);
        await using var server = Length(ms.ToArray(), $"Content-Encoding: {coding}\r\n");
        using var session = new ClientSession(new ClientSessionOptions { MaxBodySize = 64 * 1024 });
        Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Read()));
    }

    [Test]
    public async Task The_request_option_overrides_the_session_in_both_directions()
    {
        await using var server = Length(Bytes(500));
        using var strict = new ClientSession(new ClientSessionOptions { MaxBodySize = 100 });
        Assert.That(await strict.Get(server.Url(), new RequestOptions { MaxBodySize = 0 }).SelectMany(r => r.Read()), Has.Length.EqualTo(500));
        using var loose = new ClientSession();
        Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await loose.Get(server.Url(), new RequestOptions { MaxBodySize = 499 }).SelectMany(r => r.Read()));
    }

    [Test]
    public async Task Text_and_Json_read_under_the_same_limit()
    {
        var json = Encoding.UTF8.GetBytes("{\"items\":[" + string.Join(",", Enumerable.Range(0, 200)) + "]}");
        await using var server = Chunked(json, "Content-Type: application/json\r\n");
        using var session = new ClientSession(new ClientSessionOptions { MaxBodySize = json.Length - 1 });
        Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Text()));
        Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Json<Dictionary<string, int[]>>()));
        var parsed = await session.Get(server.Url(), new RequestOptions { MaxBodySize = json.Length }).SelectMany(r => r.Json<Dictionary<string, int[]>>());
        Assert.That(parsed!["items"], Has.Length.EqualTo(200));
    }

    [Test]
    public async Task Multipart_counts_all_its_parts_together()
    {
        var part = new string('p', 3000);
        var body = Encoding.ASCII.GetBytes($"--b\r\n\r\n{part}\r\n--b\r\n\r\n{part}\r\n--b--\r\n");
        await using var server = Chunked(body, "Content-Type: multipart/mixed; boundary=b\r\n");
        using var session = new ClientSession(new ClientSessionOptions { MaxBodySize = 5000 });
        var error = Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Multipart()));
        Assert.That(error!.AnnouncedLength, Is.Null);
        Assert.That(error.Limit, Is.EqualTo(5000));
        var all = await session.Get(server.Url(), new RequestOptions { MaxBodySize = body.Length }).SelectMany(r => r.Multipart()).ToList();
        Assert.That(all, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task Multipart_fails_at_once_on_an_announced_length_over_the_limit()
    {
        var body = Encoding.ASCII.GetBytes($"--b\r\n\r\n{new string('p', 3000)}\r\n--b--\r\n");
        await using var server = Length(body, "Content-Type: multipart/mixed; boundary=b\r\n");
        using var session = new ClientSession(new ClientSessionOptions { MaxBodySize = 1000 });
        var error = Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await session.Get(server.Url()).SelectMany(r => r.Multipart()));
        Assert.That(error!.AnnouncedLength, Is.EqualTo(body.Length));
    }

    [Test]
    public async Task Streaming_reads_are_not_limited()
    {
        var gz = Gzip(new byte[2 * 1024 * 1024]);
        await using var server = Length(gz, "Content-Encoding: gzip\r\nContent-Type: text/plain\r\n");
        using var session = new ClientSession(new ClientSessionOptions { MaxBodySize = 1024 });
        var chunks = await session.Get(server.Url()).SelectMany(r => r.Content).ToList();
        Assert.That(chunks.Sum(c => c.Length), Is.EqualTo(2 * 1024 * 1024));
        Assert.That(chunks.Max(c => c.Length), Is.LessThanOrEqualTo(64 * 1024), "decompressed in bounded chunks");
        var lines = await session.Get(server.Url()).SelectMany(r => r.Lines(maxLineLength: 4 * 1024 * 1024)).ToList();
        Assert.That(lines.Single(), Has.Length.EqualTo(2 * 1024 * 1024));
        var borrowed = 0L;
        await session.Get(server.Url()).SelectMany(r => r.BorrowedContent).ForEachAsync(c => borrowed += c.Length);
        Assert.That(borrowed, Is.EqualTo(2 * 1024 * 1024));
    }

    [Test]
    public void A_negative_limit_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClientSession(new ClientSessionOptions { MaxBodySize = -1 }));
        using var session = new ClientSession();
        Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await session.Get("http://127.0.0.1:1/", new RequestOptions { MaxBodySize = -5 }));
    }
}
