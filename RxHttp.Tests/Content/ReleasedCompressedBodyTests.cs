using System.IO.Compression;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// A compressed body that is all in memory when its response is released (it came with the head, or was kept once the
/// subscription ended) reads whole afterwards, as an identity body does: RaiseForStatus() releases the response, and
/// reading the error page after it is the usual way to log it.
/// </summary>
[TestFixture]
public class ReleasedCompressedBodyTests
{
    private static readonly string Page = string.Concat(Enumerable.Repeat("upstream timed out; ", 200));

    private static byte[] Encode(string coding, byte[] plain)
    {
        var ms = new MemoryStream();
        using (Stream s = coding switch
        {
            "gzip" => new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true),
            "deflate" => new ZLibStream(ms, CompressionLevel.Fastest, leaveOpen: true),
            _ => new BrotliStream(ms, CompressionLevel.Fastest, leaveOpen: true),
        })
            s.Write(plain);
        return ms.ToArray();
    }

    private static RawServer ErrorPage(string coding) => new(async c =>
    {
        var body = coding == "identity" ? Encoding.UTF8.GetBytes(Page) : Encode(coding, Encoding.UTF8.GetBytes(Page));
        var encoding = coding == "identity" ? "" : $"Content-Encoding: {coding}\r\n";
        while (await c.ReadRequestAsync() is not null)
            await c.WriteAsync([.. Encoding.Latin1.GetBytes($"HTTP/1.1 502 Bad Gateway\r\n{encoding}Content-Length: {body.Length}\r\n\r\n"), .. body]);
    });

    [TestCase("identity")]
    [TestCase("gzip")]
    [TestCase("deflate")]
    [TestCase("br")]
    public async Task The_error_page_reads_whole_after_RaiseForStatus_released_it(string coding)
    {
        await using var server = ErrorPage(coding);
        using var session = new ClientSession();
        var r = await session.Get(server.Url());
        await Wait.Until(() => r.Closed, what: "the body kept in memory, its connection back in the pool");
        Assert.Throws<ClientResponseError>(() => r.RaiseForStatus());
        Assert.That(await r.Text(), Is.EqualTo(Page), "before, a compressed body read as an empty string");
        Assert.That(r.DecodersDisposed, Is.EqualTo(coding != "identity"), "the fresh decoders are disposed at the end too");
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1));
    }

    [TestCase("gzip")]
    [TestCase("br")]
    public async Task Content_and_the_stream_of_a_released_body_read_whole_too(string coding)
    {
        await using var server = ErrorPage(coding);
        using var session = new ClientSession();
        var streamed = await session.Get(server.Url());
        await Wait.Until(() => streamed.Closed);
        streamed.Release();
        var chunks = await streamed.Content.ToList();
        Assert.That(Encoding.UTF8.GetString(chunks.SelectMany(c => c.ToArray()).ToArray()), Is.EqualTo(Page));
        var piped = await session.Get(server.Url());
        await Wait.Until(() => piped.Closed);
        piped.Dispose();
        Assert.That(await new StreamReader(piped.GetStream()).ReadToEndAsync(), Is.EqualTo(Page));
    }

    [Test]
    public async Task A_body_released_before_it_arrived_still_fails()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var body = Encode("gzip", Encoding.UTF8.GetBytes(Page));
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {body.Length}\r\n\r\n");
            await release.Task;
            await c.WriteAsync(body);
        });
        using var session = new ClientSession(new ClientSessionOptions { StreamResponse = true });
        var r = await session.Get(server.Url());
        r.Release();
        release.SetResult();
        Assert.ThrowsAsync<ClientPayloadError>(async () => await r.Text());
        Assert.That(session.Connector.CurrentState.Open, Is.EqualTo(0));
    }
}
