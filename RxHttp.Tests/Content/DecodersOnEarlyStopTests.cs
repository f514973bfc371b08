using System.IO.Compression;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// A reader that stops before a compressed body ends (Take, a break, a failed read) disposes its decoders, as the end
/// of the body and a release before any read do: their native zlib/brotli state and pooled buffers are freed then,
/// not by finalizers some GC later. Before, only those two paths disposed them. HttpClient disposes its decoders
/// with the content stream, however the reading stopped.
/// </summary>
[TestFixture]
public class DecodersOnEarlyStopTests
{
    // An NDJSON feed that never ends, gzip'd and flushed a block at a time, in chunks.
    private static RawServer EndlessFeed(string coding) => new(async c =>
    {
        await c.ReadRequestAsync();
        await c.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nContent-Encoding: {coding}\r\nTransfer-Encoding: chunked\r\n\r\n");
        var sink = new MemoryStream();
        Stream encoder = coding == "gzip" ? new GZipStream(sink, CompressionLevel.Fastest) : new BrotliStream(sink, CompressionLevel.Fastest);
        for (var i = 0; ; i++)
        {
            sink.SetLength(0);
            for (var j = 0; j < 1000; j++) encoder.Write(Encoding.UTF8.GetBytes($"{{\"event\":{i * 1000 + j},\"pad\":\"{new string('x', 40)}\"}}\n"));
            encoder.Flush();
            var block = sink.ToArray();
            await c.WriteAsync([.. Encoding.ASCII.GetBytes($"{block.Length:x}\r\n"), .. block, .. "\r\n"u8.ToArray()]);
        }
    });

    private static async Task StopsEarly(string coding, Func<ClientResponse, Task> read)
    {
        await using var server = EndlessFeed(coding);
        using var session = new ClientSession();
        var r = await session.Get(server.Url());
        Assert.That(r.DecodersDisposed, Is.False, "a decoder to dispose: the case this test is about");
        await read(r);
        await Wait.Until(() => r.Closed, 5, "the connection closed");
        await Wait.Until(() => r.DecodersDisposed, 5, "the decoders disposed");
    }

    [TestCase("gzip")]
    [TestCase("br")]
    public Task Content_with_Take(string coding) => StopsEarly(coding, async r => await r.Content.Take(3));

    [TestCase("gzip")]
    [TestCase("br")]
    public Task BorrowedContent_with_Take(string coding) => StopsEarly(coding, async r => await r.BorrowedContent.Take(1));

    [TestCase("gzip")]
    [TestCase("br")]
    public Task Lines_with_Take(string coding) => StopsEarly(coding, async r => Assert.That(await r.Lines().Take(2).ToList(), Has.Count.EqualTo(2)));

    [TestCase("gzip")]
    public Task IterChunked_with_a_break(string coding) => StopsEarly(coding, async r =>
    {
        await foreach (var _ in r.IterChunked(1024)) break;
    });

    [Test]
    public async Task A_body_cut_short_fails_and_frees_its_decoders()
    {
        var plain = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 20000).Select(i => $"line {i}\n")));
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(plain);
        var body = ms.ToArray();
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync([.. Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {body.Length}\r\n\r\n"), .. body.AsSpan(0, body.Length / 2).ToArray()]);
        });
        using var session = new ClientSession(new ClientSessionOptions { StreamResponse = true });
        var r = await session.Get(server.Url());
        Assert.ThrowsAsync<ClientPayloadError>(async () => await r.Text());
        Assert.That(r.DecodersDisposed, Is.True);
    }
}
