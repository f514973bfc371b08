using System.IO.Compression;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Http1;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// Transfer codings besides chunked (RFC 9112 §7): <c>Transfer-Encoding: gzip, chunked</c> is framing, so the body a
/// caller reads is what is left once both are undone, whatever AutoDecompress says; a coding RxHttp cannot undo is a
/// <see cref="ClientPayloadError"/>, not encoded bytes handed out as the body. Before, the framing was right and the
/// gzip bytes came out as they were.
/// </summary>
[TestFixture]
public class TransferCodingTests
{
    private const string Text = "transfer-coded text, ";
    private static readonly string Original = string.Concat(Enumerable.Repeat(Text, 200));

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }

    private static byte[] Chunked(byte[] data, int size)
    {
        var output = new List<byte>();
        for (var i = 0; i < data.Length; i += size)
        {
            var piece = data.AsSpan(i, Math.Min(size, data.Length - i));
            output.AddRange(Encoding.ASCII.GetBytes($"{piece.Length:x}\r\n"));
            output.AddRange(piece.ToArray());
            output.AddRange("\r\n"u8.ToArray());
        }
        output.AddRange("0\r\n\r\n"u8.ToArray());
        return output.ToArray();
    }

    private static byte[] Response(string headers, byte[] body) => Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\n" + headers + "\r\n").Concat(body).ToArray();

    private static RawServer Serving(byte[] response, bool dribble = false, bool closeAfter = false) => new(async c =>
    {
        while (await c.ReadRequestAsync() is not null)
        {
            await c.WriteAsync(response, dribble);
            if (closeAfter) break;
        }
    });

    [TestCase(false)]
    [TestCase(true)]
    public async Task Gzip_before_chunked_is_undone_and_the_connection_serves_the_next_request(bool dribble)
    {
        var body = Chunked(Gzip(Encoding.UTF8.GetBytes(Original)), 37);
        await using var server = Serving(Response("Transfer-Encoding: gzip, chunked\r\n", body), dribble);
        using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo(Original));
        var bytes = await session.Get(server.Url()).SelectMany(r => r.Read());
        Assert.That(Encoding.UTF8.GetString(bytes), Is.EqualTo(Original));
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "read to its end, the chunked body left its connection reusable");
    }

    [Test]
    public async Task Gzip_alone_runs_until_close_and_is_undone()
    {
        await using var server = Serving(Response("Transfer-Encoding: gzip\r\n", Gzip(Encoding.UTF8.GetBytes(Original))), closeAfter: true);
        using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo(Original));
    }

    [Test]
    public async Task Transfer_codings_are_undone_even_when_content_codings_are_left_alone()
    {
        // gzip as the content's coding, then gzip again as a transfer coding: turning AutoDecompress off keeps the
        // content's, never the framing's.
        var content = Gzip(Encoding.UTF8.GetBytes(Original));
        var body = Chunked(Gzip(content), 64);
        await using var server = Serving(Response("Content-Encoding: gzip\r\nTransfer-Encoding: gzip, chunked\r\n", body));
        using var session = new ClientSession();
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo(Original));
        var raw = await session.Get(server.Url(), new RequestOptions { AutoDecompress = false }).SelectMany(r => r.Read());
        Assert.That(raw, Is.EqualTo(content));
    }

    [TestCase("compress, chunked", "compress")]
    [TestCase("chunked, gzip", "chunked, gzip")]
    public async Task A_coding_that_cannot_be_undone_is_a_payload_error_and_the_connection_is_not_reused(string transferEncoding, string named)
    {
        var body = transferEncoding.EndsWith("chunked") ? Chunked("abc"u8.ToArray(), 3) : Gzip(Chunked("abc"u8.ToArray(), 3));
        await using var server = Serving(Response($"Transfer-Encoding: {transferEncoding}\r\n", body), closeAfter: !transferEncoding.EndsWith("chunked"));
        using var session = new ClientSession();
        var error = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get(server.Url()).SelectMany(r => r.Read()));
        Assert.That(error!.Message, Does.Contain($"'{named}'"));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0, Opening: 0 }, what: "the failed body's connection to be closed, not pooled");
    }

    [Test]
    public async Task A_corrupt_gzip_transfer_coding_is_a_payload_error()
    {
        var gzip = Gzip(Encoding.UTF8.GetBytes(Original));
        gzip[gzip.Length / 2] ^= 0xFF;
        gzip[gzip.Length / 2 + 1] ^= 0xFF;
        await using var server = Serving(Response("Transfer-Encoding: gzip, chunked\r\n", Chunked(gzip, 100)));
        using var session = new ClientSession();
        Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get(server.Url()).SelectMany(r => r.Read()));
    }

    [TestCase(new[] { "chunked" }, null)]
    [TestCase(new[] { " Chunked " }, null)]
    [TestCase(new[] { "gzip, chunked" }, "gzip")]
    [TestCase(new[] { "gzip", "chunked" }, "gzip")]
    [TestCase(new[] { "gzip;q=1 , ,chunked" }, "gzip")]
    [TestCase(new[] { "x-gzip" }, "x-gzip")]
    [TestCase(new[] { "deflate, gzip, chunked" }, "deflate, gzip")]
    [TestCase(new[] { "chunked, gzip" }, "chunked, gzip")]
    public void TransferCodings_is_the_list_without_its_final_chunked(string[] values, string? expected) =>
        Assert.That(HttpFraming.TransferCodings(values), Is.EqualTo(expected));
}
