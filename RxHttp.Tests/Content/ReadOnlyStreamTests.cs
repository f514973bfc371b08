using System.IO.Compression;
using System.Reactive.Linq;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>The read-only streams (GetStream, the deflate sniffing and its prefix stream) share one base class.</summary>
[TestFixture]
public class ReadOnlyStreamTests
{
    private static readonly byte[] Text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("stream me ", 500)));
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.MapGet("/plain", () => Results.Bytes(Text, "text/plain"));
        app.MapPost("/echo", async (HttpContext ctx) =>
        {
            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body);
            return Results.Bytes(body.ToArray(), "application/octet-stream");
        });
        app.MapGet("/deflate/{kind}", (HttpContext ctx, string kind) =>
        {
            using var ms = new MemoryStream();
            using (Stream z = kind == "zlib" ? new ZLibStream(ms, CompressionLevel.Fastest, true) : new DeflateStream(ms, CompressionLevel.Fastest, true))
                z.Write(Text);
            ctx.Response.Headers.ContentEncoding = "deflate";
            return Results.Bytes(ms.ToArray(), "text/plain");
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task GetStream_is_read_only_forward_only_and_reads_synchronously_too()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var response = await session.Get("plain");
        await using var stream = response.GetStream();
        Assert.That((stream.CanRead, stream.CanSeek, stream.CanWrite), Is.EqualTo((true, false, false)));
        Assert.That(stream.Length, Is.EqualTo(Text.Length), "Length is the Content-Length when the body is not decoded");
        Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => stream.SetLength(1));
        Assert.Throws<NotSupportedException>(() => stream.Write(new byte[1], 0, 1));
        Assert.Throws<NotSupportedException>(() => _ = stream.Position);

        var first = new byte[10];
        var n = stream.Read(first, 0, first.Length); // the synchronous path
        Assert.That(n, Is.GreaterThan(0));
        using var rest = new MemoryStream();
        rest.Write(first, 0, n);
        await stream.CopyToAsync(rest);
        Assert.That(rest.ToArray(), Is.EqualTo(Text));
        Assert.That(response.Closed, Is.True, "reading to the end released the connection");
    }

    [TestCase(false, TestName = "A GetStream read after Dispose throws ObjectDisposedException, whatever the body holds")]
    [TestCase(true, TestName = "A GetStream read after reading to the end and Dispose throws ObjectDisposedException")]
    public async Task GetStream_reads_after_Dispose_throw_ObjectDisposedException(bool readToEnd)
    {
        using var releaseBuffer = ReadBufferSize.Release(); // so the body may come with its head and be kept
        using var session = new ClientSession(_server.BaseUrl);
        var response = await session.Get("plain");
        var stream = response.GetStream();
        if (readToEnd) await stream.CopyToAsync(Stream.Null);
        await stream.DisposeAsync();

        Assert.That(stream.CanRead, Is.False);
        Assert.ThrowsAsync<ObjectDisposedException>(async () => _ = await stream.ReadAsync(new byte[16]));
        Assert.Throws<ObjectDisposedException>(() => stream.ReadByte());
        Assert.That(response.Closed, Is.True, "disposing released the connection");
    }

    [Test]
    public async Task After_Read_GetStream_reads_the_cached_body_and_the_response_can_still_be_piped()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var response = await session.Get("plain");
        Assert.That(await response.Read(), Is.EqualTo(Text));

        using (var stream = response.GetStream())
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.That(copy.ToArray(), Is.EqualTo(Text), "the cached body, not the exhausted connection's nothing");
        }
        // Piping goes through GetStream: before, it announced the Content-Length and then sent no byte of it.
        var echoed = await session.Post("echo", new RequestOptions { Data = response }).SelectMany(r => r.Read());
        Assert.That(echoed, Is.EqualTo(Text));
    }

    [TestCase("zlib")]
    [TestCase("raw")]
    public async Task Deflate_bodies_are_decoded_through_the_sniffing_stream_with_sync_and_async_reads(string kind)
    {
        using var session = new ClientSession(_server.BaseUrl);
        var response = await session.Get("deflate/" + kind);
        await using var stream = response.GetStream();
        Assert.Throws<NotSupportedException>(() => _ = stream.Length, "a decoded body has no known length");
        using var copy = new MemoryStream();
        var buffer = new byte[100];
        var n = stream.Read(buffer, 0, buffer.Length);
        copy.Write(buffer, 0, n);
        while ((n = await stream.ReadAsync(buffer, 0, buffer.Length)) > 0) copy.Write(buffer, 0, n);
        Assert.That(copy.ToArray(), Is.EqualTo(Text));
    }
}
