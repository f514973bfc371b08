using System.Reactive.Linq;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Http1;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// Large bodies are read straight from the socket into the reader's memory once the connection buffer is empty
/// (Content-Length, until-close and inside chunked data). These bodies cross that path at awkward places: the
/// head, chunk headers and chunk ends split across socket writes, chunks larger and smaller than a read.
/// </summary>
[TestFixture]
public class DirectReadTests
{
    private static readonly int[] ChunkSizes = [1, 70_000, 3, 200_000, 65_536, 65_537, 16_384, 5, 131_073];

    private static byte[] Body(int n)
    {
        var b = new byte[n];
        for (var i = 0; i < n; i++) b[i] = (byte)(i * 31 + i / 251);
        return b;
    }

    private static byte[] ChunkedWire(byte[] body, int[] sizes)
    {
        using var ms = new MemoryStream();
        var at = 0;
        var k = 0;
        while (at < body.Length)
        {
            var size = Math.Min(sizes[k++ % sizes.Length], body.Length - at);
            ms.Write(Encoding.ASCII.GetBytes(size.ToString("x") + (k % 3 == 0 ? ";ext=1" : "") + "\r\n"));
            ms.Write(body, at, size);
            ms.Write("\r\n"u8);
            at += size;
        }
        ms.Write("0\r\n\r\n"u8);
        return ms.ToArray();
    }

    // Writes the response in pieces with a pause between them, so the client's reads end at the cut points.
    private static RawServer Serve(byte[] head, byte[] wire, int[] cuts, bool keepServing = true) =>
        new(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                var all = head.Concat(wire).ToArray();
                var at = 0;
                foreach (var cut in cuts.Append(all.Length))
                {
                    var end = Math.Min(cut, all.Length);
                    if (end <= at) continue;
                    await c.WriteAsync(all[at..end]);
                    at = end;
                    await Task.Delay(5);
                }
                if (!keepServing) break;
            }
        });

    private static int[] Cuts(int headLength) =>
        // Inside the head, just after it, one byte into the body, around 64 KiB and chunk boundaries, and at odd primes.
        [headLength - 3, headLength, headLength + 1, headLength + 2, headLength + 7, headLength + 70_009, headLength + 70_010,
         headLength + 65_536, headLength + 131_072 + 17, headLength + 270_001, headLength + 400_000, headLength + 600_011];

    public enum Reader { Content, IterChunked7K, Stream1, Stream4099, Stream64K, Stream300K, Read }

    private static async Task<byte[]> ReadAsync(ClientResponse r, Reader reader)
    {
        switch (reader)
        {
            case Reader.Content:
                var chunks = await r.Content.ToList();
                return chunks.SelectMany(c => c.ToArray()).ToArray();
            case Reader.IterChunked7K:
                var list = new List<byte>();
                await foreach (var c in r.IterChunked(7 * 1024))
                {
                    Assert.That(c.Length, Is.InRange(1, 7 * 1024));
                    list.AddRange(c.ToArray());
                }
                return list.ToArray();
            case Reader.Read:
                return await r.Read();
            default:
                var size = reader switch { Reader.Stream1 => 1, Reader.Stream4099 => 4099, Reader.Stream64K => 65_536, _ => 300_000 };
                await using (var s = r.GetStream())
                {
                    var ms = new MemoryStream();
                    var buffer = new byte[size];
                    int n;
                    while ((n = await s.ReadAsync(buffer)) > 0) ms.Write(buffer, 0, n);
                    return ms.ToArray();
                }
        }
    }

    private static async Task CheckTwiceOnOneConnection(RawServer server, byte[] body, Reader reader)
    {
        using var session = new ClientSession();
        for (var i = 0; i < 2; i++)
        {
            var r = await session.Get(server.Url());
            var got = await ReadAsync(r, reader);
            Assert.That(got.Length, Is.EqualTo(body.Length));
            Assert.That(got.AsSpan().SequenceEqual(body), Is.True, "bytes differ");
            await Wait.Until(() => r.Closed, what: "the body's end frees the connection");
        }
        Assert.That(server.ConnectionCount, Is.EqualTo(1), "the connection is reused after a complete body");
    }

    [Test]
    public async Task A_large_chunked_body_split_at_awkward_places_arrives_intact([Values] Reader reader)
    {
        var body = Body(900_000);
        var head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray();
        await using var server = Serve(head, ChunkedWire(body, ChunkSizes), Cuts(head.Length));
        await CheckTwiceOnOneConnection(server, body, reader);
    }

    [Test]
    public async Task A_large_content_length_body_split_at_awkward_places_arrives_intact([Values] Reader reader)
    {
        var body = Body(900_000);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n");
        await using var server = Serve(head, body, Cuts(head.Length));
        await CheckTwiceOnOneConnection(server, body, reader);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task Content_of_a_large_plain_body_scatters_each_socket_read_into_several_fresh_arrays(bool contentLength)
    {
        var body = Body(1_000_003);
        var head = Encoding.ASCII.GetBytes(contentLength
            ? $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        // The whole response is written before the body is read, so the body's reads find plenty waiting.
        var written = new TaskCompletionSource();
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await c.WriteAsync(head.Concat(body).ToArray());
                written.TrySetResult();
                if (!contentLength) break;
            }
        });
        using var session = new ClientSession();
        ClientResponse r = null!;
        // StreamResponse: the body stays on the connection until the reader comes, after the whole response was
        // written. Without it, a reader that came after the delivering subscription ended found the body already
        // being kept in memory (when the server's write completed late, as once in CI), and read no socket at all.
        var chunks = await session.Get(server.Url(), new RequestOptions { StreamResponse = true }).SelectMany(x =>
        {
            r = x;
            // The bound only turns a hang into a failure (the write cannot complete if the socket buffers cannot hold it).
            return Observable.FromAsync(() => written.Task.WaitAsync(TimeSpan.FromSeconds(30))).SelectMany(_ => x.Content.ToList());
        });
        Assert.That(chunks.SelectMany(c => c.ToArray()).ToArray().AsSpan().SequenceEqual(body), Is.True, "bytes differ");
        Assert.That(chunks.Select(c => c.Length), Is.All.InRange(1, 64 * 1024));
        Assert.That(r.Body!.ScatterReads, Is.GreaterThan(0), "the chunks were read by scatter reads");
        // (Until close, the last scatter read is the one that meets the end.)
        Assert.That(r.Body.ScatterReads - (contentLength ? 0 : 1), Is.LessThan(chunks.Count), "one scatter read fills several chunks");
        var arrays = chunks.Select(c => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(c, out var seg) ? seg.Array : null).ToList();
        Assert.That(arrays, Is.Unique, "each chunk is an array of its own");
        if (contentLength)
        {
            // Nothing past the body was read: the connection serves the next response intact.
            var again = await session.Get(server.Url()).SelectMany(x => x.Read());
            Assert.That(again.AsSpan().SequenceEqual(body), Is.True);
            Assert.That(server.ConnectionCount, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Scatter_reads_of_a_trickling_body_reuse_the_arrays_they_did_not_fill()
    {
        var body = Body(200_000);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n");
        // The body in pieces of a few KB: most reads fill part of the first array and none of the others.
        var cuts = Enumerable.Range(0, 40).Select(i => head.Length + 1 + i * 3_001).ToArray();
        await using var server = Serve(head, body, cuts, keepServing: false);
        using var session = new ClientSession();
        ClientResponse r = null!;
        var chunks = await session.Get(server.Url()).SelectMany(x => (r = x).Content.ToList());
        Assert.That(chunks.SelectMany(c => c.ToArray()).ToArray().AsSpan().SequenceEqual(body), Is.True, "bytes differ");
        var full = chunks.Count(c => c.Length == 64 * 1024);
        Assert.That(r.Body!.ScatterReads, Is.GreaterThan(10), "the body came in many short reads");
        // Every array allocated was either handed out whole or is one of the four the last read left: no read
        // allocated arrays it did not fill.
        Assert.That(r.Body.ScatterArraysAllocated, Is.LessThanOrEqualTo(full + ResponseBody.ScatterArrays));
        Assert.That(r.Body.HoldsScatterArrays, Is.False, "the body ended: the arrays kept for a next read are let go");
    }

    [Test]
    public async Task Disposing_Content_during_a_scatter_read_closes_the_connection()
    {
        var body = Body(500_000);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n");
        // 200 KB of the body, then the server stalls: the reader waits in a scatter read when it is disposed.
        var release = new TaskCompletionSource();
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync(head.Concat(body[..200_000]).ToArray());
            await release.Task;
        });
        using var session = new ClientSession();
        ClientResponse r = null!;
        var got = 0;
        var first = new TaskCompletionSource();
        // Subscribed inside the response's own subscription, so no drain of an unread body reads ahead of it.
        var subscription = session.Get(server.Url()).SelectMany(x => (r = x).Content)
            .Subscribe(c => { if ((got += c.Length) >= 200_000) first.TrySetResult(); });
        await first.Task;
        Assert.That(r.Body!.ScatterReads, Is.GreaterThan(0));
        subscription.Dispose();
        var connection = r.Body!.Connection;
        await Wait.Until(() => r.Closed && connection.Closed, what: "the connection is closed, not pooled");
        Assert.That(r.Body.Failed, Is.True, "the body ended unread, not complete");
        release.SetResult();
    }

    [Test]
    public async Task A_chunked_body_cut_inside_a_large_chunk_fails_with_ClientPayloadError()
    {
        var body = Body(300_000);
        var head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray();
        var wire = ChunkedWire(body, [200_000, 100_000]);
        await using var server = Serve(head, wire[..150_000], [head.Length + 10, head.Length + 70_000], keepServing: false);
        using var session = new ClientSession();
        var r = await session.Get(server.Url());
        var e = Assert.ThrowsAsync<ClientPayloadError>(async () => await r.Content.ToList());
        Assert.That(e!.Message, Does.Contain("chunked"));
        Assert.That(r.Closed, Is.True);
    }

    [Test]
    public async Task A_large_chunked_body_from_Kestrel_arrives_intact_through_Content_and_GetStream()
    {
        var body = Body(3_000_000);
        await using var server = await KestrelServer.StartAsync(app => app.MapGet("/chunked", async (HttpContext c) =>
        {
            // No Content-Length: Kestrel frames each write as a chunk; odd sizes put chunk ends anywhere in a read.
            var at = 0;
            var k = 0;
            while (at < body.Length)
            {
                var n = Math.Min(ChunkSizes[k++ % ChunkSizes.Length] * 3 + 1, body.Length - at);
                await c.Response.Body.WriteAsync(body.AsMemory(at, n));
                await c.Response.Body.FlushAsync();
                at += n;
            }
        }));
        using var session = new ClientSession();
        foreach (var reader in new[] { Reader.Content, Reader.Stream64K, Reader.Stream4099 })
        {
            var r = await session.Get(server.Url("/chunked"));
            Assert.That(r.Headers.Get("Transfer-Encoding"), Is.EqualTo("chunked"));
            var got = await ReadAsync(r, reader);
            Assert.That(got.AsSpan().SequenceEqual(body), Is.True, $"bytes differ ({reader})");
        }
    }

    [Test]
    public void SkipData_accounts_for_chunk_data_read_past_the_decoder()
    {
        var d = new ChunkedDecoder();
        Assert.That(d.Decode("a\r\n"u8, out var consumed, out _, out _), Is.EqualTo(ChunkedStatus.NeedMoreData));
        Assert.That(consumed, Is.EqualTo(3));
        Assert.That(d.DataRemaining, Is.EqualTo(10));
        d.SkipData(4);
        Assert.That(d.DataRemaining, Is.EqualTo(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.SkipData(7));
        d.SkipData(6);
        Assert.That(d.DataRemaining, Is.EqualTo(0), "past the data the decoder wants the CRLF");
        Assert.That(d.Decode("\r\n0\r\n\r\n"u8, out consumed, out _, out _), Is.EqualTo(ChunkedStatus.Done));
        Assert.That(consumed, Is.EqualTo(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.SkipData(1));
    }
}
