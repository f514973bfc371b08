using System.IO.Compression;
using System.Reactive.Linq;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace RxHttp.Tests.Content;

/// <summary>zstd beside gzip, deflate and br; stacked codings; an unknown coding is an error, not silent bytes.</summary>
public class ContentCodingTests
{
    private static readonly byte[] Original = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("zstd content coding ", 2000)));
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.MapGet("/coded/{coding}", async (HttpContext c, string coding) =>
        {
            // The body as the Content-Encoding header says, codings applied in the order listed.
            var body = Original;
            foreach (var one in coding.Split(','))
                body = one switch
                {
                    "zstd" => Zstd(body),
                    "gzip" => Gzip(body),
                    "bigwindow" => Zstd(body, windowLog: 25),
                    "truncated" => Zstd(body)[..^8],
                    _ => body,
                };
            c.Response.Headers.ContentEncoding = coding.Replace("bigwindow", "zstd").Replace("truncated", "zstd").Replace(",", ", ");
            c.Response.Headers["X-Accept-Encoding"] = c.Request.Headers.AcceptEncoding.ToString();
            c.Response.ContentType = "text/plain";
            await c.Response.Body.WriteAsync(body);
        });
        app.MapPost("/unzstd", async (HttpContext c) =>
        {
            using var ms = new MemoryStream();
            await c.Request.Body.CopyToAsync(ms);
            var raw = ms.ToArray();
            var text = c.Request.Headers.ContentEncoding == "zstd" ? new Decompressor().Unwrap(raw).ToArray() : raw;
            await c.Response.WriteAsync($"{c.Request.Headers.ContentEncoding}:{raw.Length}:{Encoding.UTF8.GetString(text)}");
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private static byte[] Zstd(byte[] data, int? windowLog = null)
    {
        using var ms = new MemoryStream();
        using (var z = new CompressionStream(ms, 3, leaveOpen: true))
        {
            if (windowLog is { } w) z.SetParameter(ZSTD_cParameter.ZSTD_c_windowLog, w);
            z.Write(data);
        }
        return ms.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Fastest, true)) z.Write(data);
        return ms.ToArray();
    }

    // A deflate, br or zstd decoder ends with its compressed stream, before a chunked body's last chunk: the body
    // must still be read to its end, or every such response costs a new connection.
    [TestCase("compressed/gzip")]
    [TestCase("compressed/deflate")]
    [TestCase("compressed/rawdeflate")]
    [TestCase("compressed/br")]
    [TestCase("coded/zstd")]
    public async Task A_decoded_chunked_body_read_to_its_end_leaves_its_connection_for_the_next_request(string path)
    {
        using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { StreamResponse = true });
        var before = _server.ConnectionCount;
        for (var i = 0; i < 3; i++)
        {
            using var r = await session.Get(path);
            Assert.That(r.Headers["Transfer-Encoding"], Is.EqualTo("chunked"), "the case this test is about");
            Assert.That(await r.Read(), Has.Length.GreaterThan(1000));
        }
        Assert.That(_server.ConnectionCount - before, Is.EqualTo(1));
    }

    // The decoders hold native zlib/brotli/zstd state: freed when the body ends, or when an unread body is released,
    // instead of by their finalizers some GC later (HttpClient disposes its decoders with the content stream).
    [TestCase("compressed/gzip")]
    [TestCase("compressed/deflate")]
    [TestCase("compressed/rawdeflate")]
    [TestCase("compressed/br")]
    [TestCase("coded/zstd")]
    public async Task The_decoders_are_disposed_when_the_body_ends_or_an_unread_body_is_released(string path)
    {
        using var session = new ClientSession(_server.BaseUrl);
        var read = await session.Get(path);
        Assert.That(read.DecodersDisposed, Is.False, "a decoder to dispose: the case this test is about");
        Assert.That(await read.Read(), Has.Length.GreaterThan(1000));
        Assert.That(read.DecodersDisposed, Is.True, "after Read()");
        var streamed = await session.Get(path);
        var chunks = await streamed.Content.Count();
        Assert.That(chunks, Is.GreaterThan(0));
        Assert.That(streamed.DecodersDisposed, Is.True, "after Content to its end");
        using var unread = await session.Get(path);
        unread.Release();
        Assert.That(unread.DecodersDisposed, Is.True, "after Release() of an unread body");
    }

    [Test]
    public async Task A_zstd_body_is_decoded_and_zstd_is_advertised()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        var r = await session.Get("coded/zstd");
        Assert.That(r.Headers.Get("X-Accept-Encoding"), Is.EqualTo("gzip, deflate, br, zstd"));
        Assert.That(await r.Read(), Is.EqualTo(Original));
    }

    [Test]
    public async Task Stacked_codings_are_undone_last_first()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        var text = await session.Get("coded/zstd,gzip").SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo(Encoding.UTF8.GetString(Original)));
        var identity = await session.Get("coded/identity,zstd").SelectMany(r => r.Read());
        Assert.That(identity, Is.EqualTo(Original));
    }

    [Test]
    public async Task An_unknown_coding_fails_the_read_unless_auto_decompression_is_off()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        var e = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get("coded/compress").SelectMany(r => r.Read()));
        Assert.That(e!.Message, Does.Contain("'compress'").And.Contain("AutoDecompress"));
        var raw = await session.Get("coded/compress", new() { AutoDecompress = false }).SelectMany(r => r.Read());
        Assert.That(raw, Is.EqualTo(Original));
    }

    [Test]
    public async Task A_zstd_frame_asking_for_a_window_over_8_MiB_is_a_payload_error()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        var e = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get("coded/bigwindow").SelectMany(r => r.Read()));
        Assert.That(e!.Message, Does.Contain("zstd"));
    }

    [Test]
    public async Task A_truncated_zstd_body_is_a_payload_error()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get("coded/truncated").SelectMany(r => r.Read()));
    }

    [Test]
    public async Task A_request_body_is_compressed_with_zstd()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        var text = new string('z', 10_000);
        var answer = await session.Post("unzstd", new() { Data = text, Compress = "zstd" }).SelectMany(r => r.Text());
        var parts = answer.Split(':', 3);
        Assert.That(parts[0], Is.EqualTo("zstd"));
        Assert.That(int.Parse(parts[1]), Is.LessThan(200), "compressed on the wire");
        Assert.That(parts[2], Is.EqualTo(text));
        Assert.That(new CompressedPayload(new BytesPayload(new byte[1]), "ZSTD").Encoding, Is.EqualTo("zstd"));
    }
}
