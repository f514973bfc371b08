using System.Reactive.Linq;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>Every body kind against a real Kestrel: bytes compared by SHA-256, multipart read by ASP.NET's own form reader.</summary>
[TestFixture]
public class BodyEndToEndTests : BodyEndToEndBase
{
    [Test]
    public async Task Bytes_arrive_byte_exact_with_content_length_in_one_send()
    {
        var data = KestrelServer.Pattern(10_000);
        var sink = await PostSink(data);
        Assert.That(sink, Is.EqualTo(new Sink(10_000, Sha(data), "10000", null, "application/octet-stream", null, null)));
    }

    [Test]
    public async Task Form_dictionary_is_read_by_aspnet_as_a_form()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var data = new List<(string, object?)> { ("key", "value1"), ("key", "value 2&="), ("n", 3), ("é", "ü") };
        var r = (await session.Post("form", new() { Data = data }).SelectMany(x => x.Json<FormResult>()))!;
        Assert.That(r.ContentType, Is.EqualTo("application/x-www-form-urlencoded"));
        Assert.That(r.Fields["key"], Is.EqualTo(new[] { "value1", "value 2&=" }));
        Assert.That(r.Fields["n"], Is.EqualTo(new[] { "3" }));
        Assert.That(r.Fields["é"], Is.EqualTo(new[] { "ü" }));
    }

    [Test]
    public async Task Multipart_form_data_with_stream_and_file_is_parsed_by_aspnet()
    {
        var streamData = KestrelServer.Pattern(300_000);
        var fileData = RandomNumberGenerator.GetBytes(200_000);
        var path = Path.Combine(Path.GetTempPath(), $"rxhttp-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(path, fileData);
        try
        {
            var form = new FormData()
                .AddField("title", "Ünïcode \"quoted\" title")
                .AddField("count", 7)
                .AddField("blob", new MemoryStream(streamData), "application/x-custom", "blob.bin")
                .AddField("photo", new FileInfo(path), filename: "фото 1.png");
            using var session = new ClientSession(_server.BaseUrl);
            var r = (await session.Post("form", new() { Data = form }).SelectMany(x => x.Json<FormResult>()))!;
            Assert.That(r.ContentType, Does.StartWith("multipart/form-data; boundary="));
            Assert.That(r.Fields["title"], Is.EqualTo(new[] { "Ünïcode \"quoted\" title" }));
            Assert.That(r.Fields["count"], Is.EqualTo(new[] { "7" }));
            Assert.That(r.Files, Has.Length.EqualTo(2));
            Assert.That(r.Files[0], Is.EqualTo(new FormFileInfo("blob", "blob.bin", "application/x-custom", streamData.Length, Sha(streamData))));
            Assert.That(r.Files[1], Is.EqualTo(new FormFileInfo("photo", "фото 1.png", "image/png", fileData.Length, Sha(fileData))));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public async Task Multipart_writer_with_a_form_data_subtype_is_parsed_by_aspnet()
    {
        var mp = new MultipartWriter("form-data");
        mp.Append("plain value").SetContentDisposition("form-data", "field");
        mp.AppendJson(new { x = 1 }).SetContentDisposition("form-data", "doc", "doc.json");
        using var session = new ClientSession(_server.BaseUrl);
        var r = (await session.Post("form", new() { Data = mp }).SelectMany(x => x.Json<FormResult>()))!;
        Assert.That(r.Fields["field"], Is.EqualTo(new[] { "plain value" }));
        Assert.That(r.Files.Single().ContentType, Is.EqualTo("application/json"));
        Assert.That(r.Files.Single().Sha256, Is.EqualTo(Sha("{\"x\":1}"u8.ToArray())));
    }

    [Test]
    public async Task Seekable_stream_goes_with_content_length_and_other_streams_chunked()
    {
        var data = KestrelServer.Pattern(500_000);
        var seekable = await PostSink(new MemoryStream(data));
        Assert.That((seekable.Length, seekable.Sha256, seekable.ContentLength, seekable.TransferEncoding), Is.EqualTo((500_000L, Sha(data), "500000", (string?)null)));
        var piped = await PostSink(new NonSeekableStream(data));
        Assert.That((piped.Length, piped.Sha256, piped.ContentLength, piped.TransferEncoding), Is.EqualTo((500_000L, Sha(data), (string?)null, "chunked")));
    }

    // As aiohttp and HttpClient: a caller who knows the length of a stream that cannot seek (a pipe, a download)
    // gets it sent, for servers that refuse chunked uploads; a compressed body still goes chunked, its length unknown.
    [Test]
    public async Task A_callers_Content_Length_frames_a_stream_of_unknown_length()
    {
        var data = KestrelServer.Pattern(200_000);
        var length = new Dictionary<string, string> { ["Content-Length"] = "200000" };
        var piped = await PostSink(new NonSeekableStream(data), new RequestOptions { Headers = length });
        Assert.That((piped.Length, piped.Sha256, piped.ContentLength, piped.TransferEncoding), Is.EqualTo((200_000L, Sha(data), "200000", (string?)null)));
        var compressed = await PostSink(new NonSeekableStream(data), new RequestOptions { Headers = length, Compress = "gzip" }, "sink?decompress=1");
        Assert.That((compressed.Length, compressed.Sha256, compressed.ContentLength, compressed.TransferEncoding), Is.EqualTo((200_000L, Sha(data), (string?)null, "chunked")));
    }

    // A cold request sent again (Retry(), a second subscription) must not upload what is left of a consumed stream
    // (nothing) as if it were the body; HttpClient's StreamContent refuses the same way.
    [Test]
    public async Task A_stream_that_cannot_seek_is_not_sent_empty_by_a_second_subscription()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var data = KestrelServer.Pattern(10_000);
        var request = session.Post("sink", new() { Data = new NonSeekableStream(data) }).SelectMany(r => r.Json<Sink>());
        Assert.That((await request)!.Sha256, Is.EqualTo(Sha(data)));
        Assert.That(async () => await request, Throws.TypeOf<ClientPayloadError>());
    }

    [Test]
    public async Task Async_sequence_and_observable_are_sent_chunked()
    {
        var data = KestrelServer.Pattern(200_000);
        async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks()
        {
            for (var i = 0; i < data.Length; i += 30_000)
            {
                await Task.Yield();
                yield return data.AsMemory(i, Math.Min(30_000, data.Length - i));
            }
        }
        var a = await PostSink(Chunks());
        Assert.That((a.Length, a.Sha256, a.TransferEncoding), Is.EqualTo((200_000L, Sha(data), "chunked")));
        var o = await PostSink(Observable.Range(0, 20).Select(i => (ReadOnlyMemory<byte>)data.AsMemory(i * 10_000, 10_000)));
        Assert.That((o.Length, o.Sha256, o.TransferEncoding), Is.EqualTo((200_000L, Sha(data), "chunked")));
    }

    [Test]
    public async Task A_response_piped_into_a_second_request_arrives_intact()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var source = await session.Get("bytes/3000000");
        var sink = (await session.Post("sink", new() { Data = source }).SelectMany(r => r.Json<Sink>()))!;
        Assert.That(sink.Length, Is.EqualTo(3_000_000));
        Assert.That(sink.Sha256, Is.EqualTo(Sha(Expected(3_000_000))));
        Assert.That(sink.ContentLength, Is.EqualTo("3000000"), "the source's length is forwarded");
        Assert.That(source.Closed, Is.True, "the source response is released after piping");
    }

    [Test]
    public async Task A_response_content_observable_can_be_piped_too()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var source = await session.Get("bytes/500000");
        var sink = (await session.Post("sink", new() { Data = source.Content }).SelectMany(r => r.Json<Sink>()))!;
        Assert.That((sink.Length, sink.Sha256, sink.TransferEncoding), Is.EqualTo((500_000L, Sha(Expected(500_000)), "chunked")));
    }

    // What /bytes/{n} sends: a 64 KiB pattern block repeated.
    private static byte[] Expected(int n)
    {
        var block = KestrelServer.Pattern(64 * 1024);
        var b = new byte[n];
        for (var i = 0; i < n; i += block.Length) block.AsSpan(0, Math.Min(block.Length, n - i)).CopyTo(b.AsSpan(i));
        return b;
    }

    [TestCase("deflate")]
    [TestCase("gzip")]
    [TestCase("br")]
    public async Task Compressed_upload_decompressed_by_the_server_equals_the_original(string encoding)
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("squeeze me ", 50_000)));
        var sink = await PostSink(data, new RequestOptions { Compress = encoding }, "sink?decompress=1");
        Assert.That((sink.Length, sink.Sha256), Is.EqualTo(((long)data.Length, Sha(data))));
        Assert.That((sink.ContentEncoding, sink.TransferEncoding, sink.ContentLength), Is.EqualTo((encoding, "chunked", (string?)null)));
        Assert.That(sink.ContentType, Is.EqualTo("application/octet-stream"));
    }

    [Test]
    public void Compress_with_an_explicit_content_encoding_is_an_argument_error()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var before = _server.ConnectionCount;
        Assert.ThrowsAsync<ArgumentException>(async () => await session.Post("sink", new()
        {
            Data = "x", Compress = "deflate", Headers = new Dictionary<string, string> { ["Content-Encoding"] = "gzip" },
        }));
        Assert.ThrowsAsync<ArgumentException>(async () => await session.Post("sink", new() { Data = "x", Compress = "lzma" }));
        Assert.That(_server.ConnectionCount, Is.EqualTo(before));
    }
}
