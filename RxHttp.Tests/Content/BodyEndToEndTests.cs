using System.Diagnostics;
using System.IO.Compression;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Reactive.Subjects;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>Every body kind against a real Kestrel: bytes compared by SHA-256, multipart read by ASP.NET's own form reader.</summary>
[TestFixture]
public class BodyEndToEndTests
{
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(MapRoutes);

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    public sealed record Sink(long Length, string Sha256, string? ContentLength, string? TransferEncoding, string? ContentType, string? ContentEncoding, string? Expect);
    public sealed record FormFileInfo(string Name, string FileName, string ContentType, long Length, string Sha256);
    public sealed record FormResult(string ContentType, Dictionary<string, string[]> Fields, FormFileInfo[] Files);

    private static string Sha(byte[] b) => Convert.ToHexString(SHA256.HashData(b));

    private static void MapRoutes(WebApplication app)
    {
        // Hashes the body as it streams and keeps nothing, so a 1 GiB upload costs the server no memory.
        app.MapPost("/sink", async (HttpContext c) =>
        {
            Stream body = c.Request.Body;
            var encoding = c.Request.Headers.ContentEncoding.ToString();
            if (c.Request.Path.Value == "/sink" && c.Request.Query.ContainsKey("decompress"))
                body = encoding switch
                {
                    "gzip" => new GZipStream(body, CompressionMode.Decompress),
                    "br" => new BrotliStream(body, CompressionMode.Decompress),
                    "deflate" => new ZLibStream(body, CompressionMode.Decompress),
                    _ => body,
                };
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int n;
            while ((n = await body.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                total += n;
            }
            var h = c.Request.Headers;
            return Results.Json(new Sink(total, Convert.ToHexString(hash.GetHashAndReset()), h.ContentLength.ToString().NullIfEmpty(),
                h.TransferEncoding.ToString().NullIfEmpty(), h.ContentType.ToString().NullIfEmpty(), encoding.NullIfEmpty(), h.Expect.ToString().NullIfEmpty()));
        });
        app.MapPost("/form", async (HttpContext c) =>
        {
            var form = await c.Request.ReadFormAsync();
            var files = new List<FormFileInfo>();
            foreach (var f in form.Files)
            {
                using var ms = new MemoryStream();
                await f.CopyToAsync(ms);
                files.Add(new FormFileInfo(f.Name, f.FileName, f.ContentType, f.Length, Sha(ms.ToArray())));
            }
            return Results.Json(new FormResult(c.Request.ContentType!, form.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => v ?? "").ToArray()), files.ToArray()));
        });
        // Answers without reading the body: with Expect: 100-continue Kestrel then never sends 100.
        app.MapPost("/refuse/{code:int}", (int code) => Results.Text("refused", statusCode: code));
    }

    private async Task<Sink> PostSink(object data, RequestOptions? extra = null, string path = "sink")
    {
        using var session = new ClientSession(_server.BaseUrl);
        var options = extra is null ? new RequestOptions { Data = data } : Copy(extra, data);
        return (await session.Post(path, options).SelectMany(r => r.Json<Sink>()))!;
    }

    private static RequestOptions Copy(RequestOptions o, object data) => new()
    {
        Data = data, Compress = o.Compress, Chunked = o.Chunked, Expect100 = o.Expect100, Headers = o.Headers,
        UploadProgress = o.UploadProgress, SkipAutoHeaders = o.SkipAutoHeaders,
    };

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

    [Test]
    public async Task Expect100_sends_the_body_after_100_continue()
    {
        var data = KestrelServer.Pattern(100_000);
        var sink = await PostSink(data, new RequestOptions { Expect100 = true });
        Assert.That((sink.Length, sink.Sha256, sink.Expect), Is.EqualTo((100_000L, Sha(data), "100-continue")));
    }

    [TestCase(417)]
    [TestCase(401)]
    public async Task Expect100_refused_by_the_server_never_writes_the_body(int code)
    {
        var spy = new SpyPayload(KestrelServer.Pattern(50_000));
        var progress = new List<TransferProgress>();
        using var session = new ClientSession(_server.BaseUrl);
        var r = await session.Post($"refuse/{code}", new() { Data = spy, Expect100 = true, UploadProgress = System.Reactive.Observer.Create<TransferProgress>(progress.Add) });
        Assert.That(r.Status, Is.EqualTo(code));
        Assert.That(await r.Text(), Is.EqualTo("refused"));
        Assert.That(spy.Writes, Is.Zero, "the payload was never asked to write");
        Assert.That(progress, Is.Empty);
        Assert.That(r.RequestInfo.Headers["Expect"], Is.EqualTo("100-continue"));
    }

    [Test]
    public async Task Expect100_refusal_seen_from_a_raw_server_receives_no_body_bytes()
    {
        var received = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var raw = new RawServer(async c =>
        {
            var buf = new byte[65536];
            var head = new StringBuilder();
            while (!head.ToString().Contains("\r\n\r\n"))
            {
                var n = await c.Socket.ReceiveAsync(buf, System.Net.Sockets.SocketFlags.None);
                if (n == 0) break;
                head.Append(Encoding.Latin1.GetString(buf, 0, n));
            }
            var extra = head.Length - (head.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4);
            await c.WriteAsync("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
            // Count every byte the client sends after the head until it closes the connection.
            int m;
            try { while ((m = await c.Socket.ReceiveAsync(buf, System.Net.Sockets.SocketFlags.None)) > 0) extra += m; }
            catch (System.Net.Sockets.SocketException) { }
            received.TrySetResult(extra);
        });
        using var session = new ClientSession();
        var r = await session.Put(raw.Url("/upload"), new() { Data = KestrelServer.Pattern(200_000), Expect100 = true });
        Assert.That(r.Status, Is.EqualTo(417));
        Assert.That(await received.Task.Within(10), Is.Zero, "not one body byte followed the head");
    }

    [Test]
    public async Task Upload_progress_reports_bytes_and_total_up_to_the_end()
    {
        var data = KestrelServer.Pattern(1_000_000);
        var subject = new Subject<TransferProgress>();
        var seen = new List<TransferProgress>();
        using var _ = subject.Subscribe(seen.Add);
        var sink = await PostSink(new MemoryStream(data), new RequestOptions { UploadProgress = subject });
        Assert.That(sink.Length, Is.EqualTo(1_000_000));
        Assert.That(seen.Count, Is.GreaterThan(1));
        Assert.That(seen[^1], Is.EqualTo(new TransferProgress(1_000_000, 1_000_000)));
        Assert.That(seen.Select(p => p.Bytes), Is.Ordered.Ascending);
        Assert.That(seen.All(p => p.Total == 1_000_000), Is.True);
    }

    [Test]
    public async Task Upload_progress_of_a_small_body_and_a_chunked_body()
    {
        var seen = new List<TransferProgress>();
        await PostSink(new byte[] { 1, 2, 3 }, new RequestOptions { UploadProgress = System.Reactive.Observer.Create<TransferProgress>(seen.Add) });
        Assert.That(seen, Is.EqualTo(new[] { new TransferProgress(3, 3) }));
        seen.Clear();
        await PostSink(new NonSeekableStream(new byte[10_000]), new RequestOptions { UploadProgress = System.Reactive.Observer.Create<TransferProgress>(seen.Add) });
        Assert.That(seen[^1], Is.EqualTo(new TransferProgress(10_000, null)));
    }

    [Test]
    public async Task Download_progress_follows_the_body_and_completes()
    {
        using var session = new ClientSession(_server.BaseUrl);
        // StreamResponse: an awaited body under 1 MiB would otherwise be kept in memory before the progress is watched.
        var r = await session.Get("bytes/1000000", new RequestOptions { StreamResponse = true });
        var seen = new List<TransferProgress>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = r.DownloadProgress.Subscribe(seen.Add, () => done.TrySetResult());
        Assert.That(seen[0], Is.EqualTo(new TransferProgress(0, 1_000_000)), "replays the current value on subscribe");
        var body = await r.Read();
        await Task.WhenAny(done.Task, Task.Delay(5000));
        Assert.That(done.Task.IsCompleted, Is.True, "completes at the end of the body");
        Assert.That(body.Length, Is.EqualTo(1_000_000));
        Assert.That(seen[^1], Is.EqualTo(new TransferProgress(1_000_000, 1_000_000)));
        Assert.That(seen.Select(p => p.Bytes), Is.Ordered.Ascending);
        Assert.That(await r.DownloadProgress.LastAsync(), Is.EqualTo(new TransferProgress(1_000_000, 1_000_000)), "after the end it replays the final value");
    }

    [Test]
    public async Task Download_progress_of_a_chunked_body_has_no_total_and_completes_on_release()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var r = await session.Get("chunked/5");
        var seen = new List<TransferProgress>();
        var completed = false;
        using var sub = r.DownloadProgress.Subscribe(seen.Add, () => completed = true);
        r.Release();
        Assert.That(completed, Is.True);
        Assert.That(seen.All(p => p.Total is null), Is.True);
    }

    [Test]
    public async Task A_stream_shorter_than_its_announced_length_fails_the_request_instead_of_hanging()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var e = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Post("sink", new()
        {
            Data = new MemoryStream(new byte[100]), Headers = new Dictionary<string, string> { ["Content-Length"] = "200" },
        }));
        Assert.That(e!.Message, Does.Contain("100 of the 200"));
        await Task.CompletedTask;
    }

    [Test]
    public async Task Skip_auto_headers_leaves_out_user_agent_accept_and_content_type()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var r = await session.Post("echo", new() { Data = "x", SkipAutoHeaders = new[] { "User-Agent", "Accept", "Accept-Encoding", "Content-Type" } })
            .SelectMany(x => x.Json<JsonElement>());
        var headers = r.GetProperty("headers");
        Assert.Multiple(() =>
        {
            Assert.That(headers.TryGetProperty("User-Agent", out _), Is.False);
            Assert.That(headers.TryGetProperty("Accept", out _), Is.False);
            Assert.That(headers.TryGetProperty("Accept-Encoding", out _), Is.False);
            Assert.That(headers.TryGetProperty("Content-Type", out _), Is.False);
            Assert.That(r.GetProperty("body").GetString(), Is.EqualTo("x"));
        });
    }

    [TestCase("X-Evil", "a\r\nX-Injected: 1")]
    [TestCase("X-Evil", "a\nb")]
    [TestCase("X-Evil", "a\rb")]
    [TestCase("Bad Name", "v")]
    [TestCase("Bad:Name", "v")]
    [TestCase("Bad\r\nName", "v")]
    public void Header_injection_is_refused_before_any_socket_opens(string name, string value)
    {
        using var session = new ClientSession(_server.BaseUrl);
        var before = _server.ConnectionCount;
        Assert.ThrowsAsync<ArgumentException>(async () => await session.Get("echo", new() { Headers = new Dictionary<string, string> { [name] = value } }));
        Assert.That(_server.ConnectionCount, Is.EqualTo(before));
        Assert.Throws<ArgumentException>(() => session.Headers.Add(name, value));
    }

    [Test]
    [NonParallelizable]
    public async Task One_GiB_generated_upload_streams_with_little_memory_growth()
    {
        const long size = 1L << 30;
        var source = new GeneratedStream(size);
        using var session = new ClientSession(_server.BaseUrl);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var baseline = process.WorkingSet64;
        long peak = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                try { await Task.Delay(20, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        var sink = (await session.Post("sink", new() { Data = source }).SelectMany(r => r.Json<Sink>()).ToTask().Within(120))!;
        stop.Cancel();
        await sampler;
        Assert.That(sink.Length, Is.EqualTo(size));
        Assert.That(sink.ContentLength, Is.EqualTo(size.ToString()));
        Assert.That(sink.Sha256, Is.EqualTo(source.Sha256Hex()));
        var growth = peak - baseline;
        TestContext.Out.WriteLine($"working set growth: {growth / 1024 / 1024} MiB");
        Assert.That(growth, Is.LessThan(64L << 20));
    }
}

internal static class StringExtensions
{
    public static string? NullIfEmpty(this string? s) => string.IsNullOrEmpty(s) ? null : s;
}
