using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// A response released while a reader is part-way through its body, with the rest of the body already in the
/// connection's buffer: the connection goes back to the pool and the reader still gets every byte. Before, the rest was
/// dropped and the reader's next read found the body ended, so it stopped early with no error (a body not yet in the
/// buffer fails that read with ClientPayloadError). aiohttp reads a payload that had arrived after release() too.
/// </summary>
[TestFixture]
public class ReleaseMidBodyTests
{
    private const int BodyLength = 300;
    private static readonly byte[] Body = Enumerable.Range(0, BodyLength).Select(i => (byte)('a' + i % 26)).ToArray();

    // The head first (padded, so the read buffer has grown past the body's size), the body once the client has the
    // response, in one send: the reader's first read takes all of it into the connection's buffer.
    private static RawServer Server(TaskCompletionSource gate) => new(async c =>
    {
        await c.ReadRequestAsync();
        await c.WriteAsync($"HTTP/1.1 200 OK\r\nX-Pad: {new string('p', 2000)}\r\nContent-Length: {BodyLength}\r\n\r\n");
        await gate.Task;
        await c.WriteAsync(Body);
        await c.WaitForCloseAsync();
    });

    [Test]
    public async Task A_stream_read_after_a_release_gets_the_rest_of_a_buffered_body()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = Server(gate);
        using var session = new ClientSession(new ClientSessionOptions { StreamResponse = true });
        var r = await session.Get(server.Url());
        var stream = r.GetStream();
        gate.SetResult();
        var first = new byte[1];
        Assert.That(await stream.ReadAsync(first), Is.EqualTo(1));
        Assert.That(r.BodyReader!.Connection.BufferedCount, Is.EqualTo(BodyLength - 1), "the rest is buffered: the case this test is about");
        r.Release();
        Assert.That(r.Closed, Is.True);
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1), "a fully received body frees its connection for reuse");
        var rest = new MemoryStream();
        await stream.CopyToAsync(rest);
        Assert.That(first.Concat(rest.ToArray()).ToArray(), Is.EqualTo(Body), "before, the stream ended after the first byte");
        Assert.That(await r.DownloadProgress.LastAsync(), Is.EqualTo(new TransferProgress(BodyLength, BodyLength)));
    }

    [Test]
    public async Task IterChunked_part_way_through_gets_every_chunk_after_a_dispose()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = Server(gate);
        using var session = new ClientSession(new ClientSessionOptions { StreamResponse = true });
        var r = await session.Get(server.Url());
        var chunks = new List<string>();
        gate.SetResult();
        await foreach (var chunk in r.IterChunked(10))
        {
            chunks.Add(Encoding.ASCII.GetString(chunk.Span));
            if (chunks.Count == 1) r.Dispose();
        }
        Assert.That(Encoding.ASCII.GetBytes(string.Concat(chunks)), Is.EqualTo(Body), "before, the loop ended after the first chunk");
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1));
    }
}
