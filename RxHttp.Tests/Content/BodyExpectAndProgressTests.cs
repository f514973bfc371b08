using System.Diagnostics;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Reactive.Subjects;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>Expect: 100-continue, upload and download progress, and short bodies, against the same real Kestrel.</summary>
[TestFixture]
public class BodyExpectAndProgressTests : BodyEndToEndBase
{
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
