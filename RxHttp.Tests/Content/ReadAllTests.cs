using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// <c>Read()</c> buffers a body into one array: of exactly its length when the length is known, read straight from
/// the socket past the bytes that came with the head; for a body of unknown length, pooled segments copied once
/// into an exact array.
/// </summary>
[TestFixture]
[NonParallelizable] // counts the process's allocations
public class ReadAllTests
{
    private const int Size = 4 << 20;

    private static readonly byte[] Body = Enumerable.Range(0, Size).Select(i => (byte)(i * 7 + i / 509)).ToArray();

    private static RawServer Serve(byte[] response) =>
        new(async c =>
        {
            while (await c.ReadRequestAsync() is not null) await c.WriteAsync(response);
        });

    private static byte[] ContentLengthResponse() =>
        Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {Size}\r\n\r\n").Concat(Body).ToArray();

    private static byte[] ChunkedResponse() => ChunkedOf(Body, contentType: null);

    // The process's allocations while reading the body, after a first request warmed the path up. The slack covers
    // the request, the response object and whatever else the process allocates meanwhile: far less than a second copy.
    private static Task<(byte[] Bytes, long Allocated, ClientResponse Response)> ReadMeasured(string response) =>
        Measured(response == "length" ? ContentLengthResponse() : ChunkedResponse(), r => r.Read());

    private static async Task<(T Result, long Allocated, ClientResponse Response)> Measured<T>(byte[] response, Func<ClientResponse, IObservable<T>> read)
    {
        await using var server = Serve(response);
        using var session = new ClientSession();
        await session.Get(server.Url()).SelectMany(read);
        var r = await session.Get(server.Url());
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await read(r);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        return (result, allocated, r);
    }

    [Test]
    public async Task A_content_length_body_is_read_into_one_array_of_its_length_straight_from_the_socket()
    {
        var (bytes, allocated, response) = await ReadMeasured("length");
        Assert.That(bytes.Length, Is.EqualTo(Size));
        Assert.That(bytes.AsSpan().SequenceEqual(Body), Is.True);
        // The count is the process's: whatever other threads allocate meanwhile (a fixture's server winding down) is in
        // it too, and once went 736 bytes past a margin of 256 KiB. Half the body's size still catches any second
        // array of it, or a buffer grown by doubling.
        Assert.That(allocated, Is.LessThan(Size + Size / 2), "one array of the body's length, nothing of its size besides");
        // Only what arrived with the head went through the connection's buffer; the rest was read into the result.
        Assert.That(response.BodyReader!.BytesViaBuffer, Is.LessThanOrEqualTo(64 * 1024));
        Assert.That(await response.Read(), Is.SameAs(bytes), "later reads replay the same array");
    }

    [Test]
    public async Task A_chunked_body_is_copied_once_into_an_exact_array()
    {
        var (bytes, allocated, _) = await ReadMeasured("chunked");
        Assert.That(bytes.Length, Is.EqualTo(Size));
        Assert.That(bytes.AsSpan().SequenceEqual(Body), Is.True);
        // A growing MemoryStream allocated about five times the body (its doublings and ToArray). The pool may have let
        // some segments go since the warm-up (it trims on full collections), hence the margin.
        Assert.That(allocated, Is.LessThan(2L * Size), "pooled segments, then one exact array");
    }

    // About 4 MiB of UTF-8 text: pieces of seven bytes ('é' takes two).
    private static readonly byte[] TextBody = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, Size / 7).Select(i => $"é{i % 1000:000}ab")));

    private static byte[] TextResponse(byte[] body) =>
        Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray();

    [Test]
    public async Task Text_of_a_large_utf8_body_keeps_the_string_alone_and_Read_still_gets_the_exact_bytes()
    {
        var body = TextBody;
        await using var server = Serve(TextResponse(body));
        using var session = new ClientSession();
        var r = await session.Get(server.Url());
        var text = await r.Text();
        Assert.That(text, Is.EqualTo(Encoding.UTF8.GetString(body)));
        // Read into a pooled buffer: the response keeps the string, not an array of the body besides.
        Assert.That(r.HoldsBodyBytes, Is.False, "no array of the body's length");
        Assert.That(await r.Text(), Is.SameAs(text), "a second Text() replays the string");
        Assert.That((await r.Read()).AsSpan().SequenceEqual(body), Is.True, "Read() after Text() gives the bytes back exactly");
    }

    // Read() turned the kept string back into bytes, but the streaming readers looked only for kept bytes, so after a
    // large UTF-8 Text() (or a chunked one) they threw "The response body can be read only once (use Read() to cache
    // it)"; after a small Text() they replayed it. Which one a body got depended on whether it had arrived yet.
    [TestCase("Content")]
    [TestCase("BorrowedContent")]
    [TestCase("IterChunked")]
    [TestCase("GetStream")]
    [TestCase("Lines")]
    public async Task Every_reader_replays_the_body_after_a_large_utf8_Text(string reader)
    {
        var body = TextBody;
        await using var server = Serve(TextResponse(body));
        using var session = new ClientSession();
        using var r = await session.Get(server.Url());
        Assert.That(await r.Text(), Has.Length.EqualTo(Size / 7 * 6));
        Assert.That(r.HoldsBodyBytes, Is.False, "the path that keeps only the string");
        var replayed = reader switch
        {
            "Content" => (await r.Content.ToList()).SelectMany(c => c.ToArray()).ToArray(),
            "BorrowedContent" => (await r.BorrowedContent.Select(c => c.ToArray()).ToList()).SelectMany(c => c).ToArray(),
            "IterChunked" => await Collect(r.IterChunked()),
            "GetStream" => await Copy(r.GetStream()),
            _ => Encoding.UTF8.GetBytes(string.Concat(await r.Lines(maxLineLength: Size).ToList())), // one line: the body has no line feed
        };
        Assert.That(replayed.AsSpan().SequenceEqual(body), Is.True);

        static async Task<byte[]> Collect(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks)
        {
            var all = new MemoryStream();
            await foreach (var chunk in chunks) all.Write(chunk.Span);
            return all.ToArray();
        }

        static async Task<byte[]> Copy(Stream stream)
        {
            var all = new MemoryStream();
            await stream.CopyToAsync(all);
            return all.ToArray();
        }
    }

    [Test]
    public async Task Text_of_a_large_body_that_is_not_utf8_fails_and_keeps_its_bytes_for_Read()
    {
        await using var server = Serve(TextResponse(Body));
        using var session = new ClientSession();
        var r = await session.Get(server.Url());
        Assert.ThrowsAsync<TextDecodeError>(async () => await r.Text(), "strict, as aiohttp's text(): no U+FFFD in place of the bytes");
        Assert.That(await r.Text(Encoding.UTF8), Is.EqualTo(Encoding.UTF8.GetString(Body)), "an encoding passed in decodes as it decodes");
        Assert.That(r.HoldsBodyBytes, Is.True, "invalid UTF-8 does not re-encode to itself: its bytes are kept");
        Assert.That((await r.Read()).AsSpan().SequenceEqual(Body), Is.True, "the invalid bytes, not their replacement characters");
    }

    [Test]
    public async Task An_empty_chunked_body_reads_as_an_empty_array()
    {
        await using var server = Serve("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"u8.ToArray());
        using var session = new ClientSession();
        var bytes = await session.Get(server.Url()).SelectMany(r => r.Read());
        Assert.That(bytes, Is.Empty);
    }

    // 'é' then 'a': three bytes a piece, so the pooled segments' boundaries (64 KiB, then 192 KiB...) fall inside an 'é'.
    private static readonly byte[] SplitTextBody = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("éa", Size / 3)));

    private static byte[] ChunkedOf(byte[] body, string? contentType)
    {
        var ms = new MemoryStream();
        var type = contentType is null ? "" : $"Content-Type: {contentType}\r\n";
        ms.Write(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\n{type}Transfer-Encoding: chunked\r\n\r\n"));
        for (var at = 0; at < body.Length; at += 100_000)
        {
            var n = Math.Min(100_000, body.Length - at);
            ms.Write(Encoding.ASCII.GetBytes(n.ToString("x") + "\r\n"));
            ms.Write(body, at, n);
            ms.Write("\r\n"u8);
        }
        ms.Write("0\r\n\r\n"u8);
        return ms.ToArray();
    }

    [Test]
    public async Task Text_of_a_chunked_utf8_body_is_decoded_from_the_pooled_segments_across_their_boundaries()
    {
        var (text, allocated, r) = await Measured(ChunkedOf(SplitTextBody, "text/plain; charset=utf-8"), r => r.Text());
        Assert.That(text, Is.EqualTo(Encoding.UTF8.GetString(SplitTextBody)), "characters split between two segments decode whole");
        Assert.That(r.HoldsBodyBytes, Is.False, "no array of the body's length");
        // The string (two bytes a character, two characters in three bytes) and no array of the body besides.
        Assert.That(allocated, Is.LessThan(text.Length * 2L + Size / 2), "the string and pooled segments only");
        Assert.That((await r.Read()).AsSpan().SequenceEqual(SplitTextBody), Is.True, "Read() after Text() gives the bytes back exactly");
    }

    [Test]
    public async Task Text_of_a_chunked_body_that_is_not_utf8_fails_and_keeps_its_bytes_for_Read()
    {
        await using var server = Serve(ChunkedOf(Body, "text/plain"));
        using var session = new ClientSession();
        var r = await session.Get(server.Url());
        Assert.ThrowsAsync<TextDecodeError>(async () => await r.Text(), "strict UTF-8, as for a body of known length");
        Assert.That(r.HoldsBodyBytes, Is.True);
        Assert.That((await r.Read()).AsSpan().SequenceEqual(Body), Is.True, "the invalid bytes, not their replacement characters");
    }
}
