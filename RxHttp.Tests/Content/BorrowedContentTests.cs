using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary><see cref="ClientResponse.BorrowedContent"/>: the same bytes as <see cref="ClientResponse.Content"/>, from one reused buffer.</summary>
[TestFixture]
public class BorrowedContentTests : KestrelFixture
{
    // Copies each chunk during OnNext, as the contract asks, and counts distinct backing arrays.
    private static async Task<(byte[] Bytes, int Chunks, int Arrays)> CollectAsync(IObservable<ReadOnlyMemory<byte>> chunks, List<int>? sizes = null)
    {
        var all = new MemoryStream();
        var arrays = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        var count = 0;
        await chunks.Do(c =>
        {
            count++;
            sizes?.Add(c.Length);
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(c, out var segment)) arrays.Add(segment.Array!);
            all.Write(c.Span);
        }).LastOrDefaultAsync();
        return (all.ToArray(), count, arrays.Count);
    }

    [Test]
    public async Task A_large_body_arrives_whole_through_one_reused_buffer()
    {
        using var session = new ClientSession(Server.BaseUrl);
        const int size = 3 * 1024 * 1024 + 17;
        var r = await session.Get($"bytes/{size}");
        var sizes = new List<int>();
        var (bytes, chunks, arrays) = await CollectAsync(r.BorrowedContent, sizes);
        Assert.That(bytes, Is.EqualTo(Expected(size)));
        Assert.That(chunks, Is.GreaterThan(1));
        Assert.That(sizes, Has.All.InRange(1, 256 * 1024), "chunks are up to 256 KiB, as documented");
        Assert.That(arrays, Is.EqualTo(1), "every chunk is a slice of the same buffer");
        Assert.That(r.Closed, Is.True, "reading to the end releases the connection");
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1), "and keeps it for reuse");
    }

    [TestCase("gzip")]
    [TestCase("br")]
    public async Task Compressed_bodies_are_decoded(string kind)
    {
        using var session = new ClientSession(Server.BaseUrl);
        var r = await session.Get($"compressed/{kind}");
        var (bytes, _, _) = await CollectAsync(r.BorrowedContent);
        Assert.That(Encoding.UTF8.GetString(bytes), Is.EqualTo(string.Concat(Enumerable.Repeat("compress me please ", 500))));
    }

    [Test]
    public async Task Chunked_bodies_arrive_whole()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var r = await session.Get("chunked/50");
        var (bytes, _, _) = await CollectAsync(r.BorrowedContent);
        Assert.That(Encoding.ASCII.GetString(bytes), Is.EqualTo(string.Concat(Enumerable.Range(0, 50).Select(i => $"chunk{i};"))));
    }

    [Test]
    public async Task After_Read_it_replays_the_cached_body()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var r = await session.Get("hello");
        var body = await r.Read();
        var (bytes, chunks, _) = await CollectAsync(r.BorrowedContent);
        Assert.That(bytes, Is.EqualTo(body));
        Assert.That(chunks, Is.EqualTo(1));
    }

    [Test]
    public async Task The_body_can_be_consumed_once()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var r = await session.Get("bytes/100000");
        await CollectAsync(r.BorrowedContent);
        Assert.ThrowsAsync<InvalidOperationException>(async () => await r.BorrowedContent.LastOrDefaultAsync());
    }

    [Test]
    public async Task Disposing_mid_body_closes_the_connection()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var r = await session.Get($"bytes/{64 * 1024 * 1024}");
        var first = new TaskCompletionSource();
        var subscription = r.BorrowedContent.Subscribe(_ => first.TrySetResult());
        await first.Task.WaitAsync(TimeSpan.FromSeconds(10));
        subscription.Dispose();
        await Wait.Until(() => r.Closed && session.Connector.CurrentState.Open == 0, what: "the half-read connection to close");
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(0), "a half-read connection is never pooled");
    }

    private static byte[] Expected(int size)
    {
        var pattern = KestrelServer.Pattern(64 * 1024);
        var result = new byte[size];
        for (var i = 0; i < size; i += pattern.Length) pattern.AsSpan(0, Math.Min(pattern.Length, size - i)).CopyTo(result.AsSpan(i));
        return result;
    }
}
