using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Runtime.CompilerServices;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// A response nobody reads does not keep its connection: a small body is taken off the connection with its head;
/// one still arriving when the subscription that delivered the response ends is kept in memory (up to 1 MiB) and the
/// connection returned; the rest of a longer one waits on the connection; StreamResponse leaves every body on the
/// connection; a response dropped unreleased is closed when collected, and reported.
/// </summary>
[TestFixture]
public class BodyOwnershipTests : KestrelFixture
{
    private ReadBufferSize? _buffer;

    // These tests are about bodies that arrive in the head's own read; a DEBUG build's 16-byte first read never
    // holds one, so they use the Release size whatever the build.
    [OneTimeSetUp]
    public void UseReleaseReadBuffer() => _buffer = ReadBufferSize.Release();

    [OneTimeTearDown]
    public void RestoreReadBuffer() => _buffer?.Dispose();

    [Test]
    public async Task A_hundred_awaited_unread_responses_leave_the_default_pool_free()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var unread = new List<ClientResponse>();
        for (var i = 0; i < 100; i++) unread.Add(await session.Get("hello"));
        Assert.That(session.Connector.CurrentState.InUse, Is.Zero, "no unread response holds a connection");
        var text = await session.Get("hello").SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(10));
        Assert.That(text, Is.EqualTo(KestrelServer.Hello));
        Assert.That(await unread[42].Text(), Is.EqualTo(KestrelServer.Hello), "an unread response still reads its body later");
    }

    [Test]
    public async Task With_a_limit_of_three_the_fourth_unread_request_does_not_wait_for_a_slot()
    {
        using var session = new ClientSession(Server.BaseUrl,
            new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Limit = 3 }) });
        var quick = new RequestOptions { Timeout = new ClientTimeout { Connect = TimeSpan.FromSeconds(10) } };
        for (var i = 0; i < 4; i++) Assert.That((await session.Get("hello", quick)).Status, Is.EqualTo(200));
        Assert.That(session.Connector.CurrentState.InUse, Is.Zero);
    }

    [Test]
    public async Task The_quickstart_posts_that_never_read_their_response_free_their_connections()
    {
        using var session = new ClientSession(Server.BaseUrl,
            new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Limit = 1 }) });
        var quick = new ClientTimeout { Connect = TimeSpan.FromSeconds(10) };
        // README's lines, one slot for all of them: each would wait for the previous one's connection if it leaked.
        await session.Post("echo", new() { Json = new { name = "x" }, Timeout = quick });
        await session.Post("echo", new() { Data = new byte[] { 1, 2, 3 }, Timeout = quick });
        await session.Put("echo", new() { Data = "plain text", Timeout = quick });
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 1 }, what: "the last response's body to be kept and its connection pooled");
    }

    [Test]
    public async Task A_response_dropped_by_an_operator_gives_its_connection_back()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var ok = await session.Get("status/404").Where(r => r.Ok).DefaultIfEmpty().Timeout(TimeSpan.FromSeconds(10));
        Assert.That(ok, Is.Null);
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 1 }, what: "the dropped 404's connection back in the pool");
    }

    [Test]
    public async Task A_dropped_response_whose_body_comes_after_its_head_is_drained_and_pooled()
    {
        var go = new TaskCompletionSource();
        await using var raw = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await c.WriteAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n");
                await go.Task;
                await c.WriteAsync("not found");
            }
        });
        using var session = new ClientSession();
        var dropped = session.Get(raw.Url()).Where(r => r.Ok).DefaultIfEmpty().ToTask();
        Assert.That(await dropped.WaitAsync(TimeSpan.FromSeconds(10)), Is.Null);
        Assert.That(session.Connector.CurrentState.InUse, Is.EqualTo(1), "the body is still on its way");
        go.SetResult();
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 1 }, what: "the drained connection back in the pool");
        var again = await session.Get(raw.Url()).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(10));
        Assert.That(again, Is.EqualTo("not found"));
        Assert.That(raw.ConnectionCount, Is.EqualTo(1), "the drained connection was reused");
    }

    [Test]
    public async Task An_unread_chunked_body_is_kept_after_the_subscription_and_read_later()
    {
        using var session = new ClientSession(Server.BaseUrl);
        ClientResponse? held = null;
        await session.Get("chunked/3").Do(r => held = r).LastAsync().Timeout(TimeSpan.FromSeconds(10));
        await Wait.Until(() => held!.Closed, what: "the kept body to end and free its connection");
        Assert.That(session.Connector.CurrentState is { InUse: 0, Idle: 1 }, Is.True);
        Assert.That(await held!.Text(), Is.EqualTo("chunk0;chunk1;chunk2;"));
    }

    [Test]
    public async Task An_unread_body_longer_than_the_bound_stays_on_its_connection_for_a_late_read()
    {
        using var session = new ClientSession(Server.BaseUrl);
        ClientResponse? held = null;
        await session.Get("bytes/3000000").Do(r => held = r).LastAsync().Timeout(TimeSpan.FromSeconds(10));
        Assert.That(held!.Closed, Is.False, "3 MB announced: more than is kept, so nothing is copied and the body waits");
        Assert.That(session.Connector.CurrentState.InUse, Is.EqualTo(1));
        Assert.That((await held.Read().Timeout(TimeSpan.FromSeconds(20))).Length, Is.EqualTo(3000000));
        Assert.That(session.Connector.CurrentState is { InUse: 0, Idle: 1 }, Is.True);
    }

    [Test]
    public async Task A_chunked_body_longer_than_the_bound_is_kept_up_to_it_and_read_whole_later()
    {
        var chunk = new string('x', 100_000);
        await using var raw = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (var i = 0; i < 20; i++) await c.WriteAsync($"{chunk.Length:x}\r\n{chunk}\r\n");
            await c.WriteAsync("0\r\n\r\n");
        });
        using var session = new ClientSession();
        ClientResponse? held = null;
        await session.Get(raw.Url()).Do(r => held = r).LastAsync().Timeout(TimeSpan.FromSeconds(10));
        await Wait.Until(() => held!.DownloadProgress.FirstAsync().Wait().Bytes >= 1024 * 1024, what: "1 MiB kept");
        Assert.That(held!.Closed, Is.False, "the rest waits on the connection");
        var body = await held.Read().Timeout(TimeSpan.FromSeconds(20));
        Assert.That(body.Length, Is.EqualTo(2_000_000));
        Assert.That(body.All(b => b == 'x'), Is.True);
        Assert.That(session.Connector.CurrentState is { InUse: 0, Idle: 1 }, Is.True);
    }

    [Test]
    public async Task A_Content_Length_over_MaxBodySize_is_not_kept_and_the_read_still_refuses_it()
    {
        using var session = new ClientSession(Server.BaseUrl, new ClientSessionOptions { MaxBodySize = 100 });
        ClientResponse? held = null;
        await session.Get("bytes/1000").Do(r => held = r).LastAsync().Timeout(TimeSpan.FromSeconds(10));
        Assert.That(held!.Closed, Is.False, "neither taken with its head nor kept");
        Assert.ThrowsAsync<ClientPayloadTooLargeError>(async () => await held.Read());
        Assert.That(held.Closed, Is.True);
    }

    [Test]
    public async Task StreamResponse_keeps_an_unread_body_on_its_connection_for_a_late_streaming_read()
    {
        using var session = new ClientSession(Server.BaseUrl);
        ClientResponse? held = null;
        await session.Get("bytes/3000000", new RequestOptions { StreamResponse = true }).Do(r => held = r).LastAsync().Timeout(TimeSpan.FromSeconds(10));
        Assert.That(held!.Closed, Is.False);
        Assert.That(session.Connector.CurrentState.InUse, Is.EqualTo(1));
        var total = await held.Content.Aggregate(0L, (n, c) => n + c.Length).Timeout(TimeSpan.FromSeconds(20));
        Assert.That(total, Is.EqualTo(3000000));
        Assert.That(session.Connector.CurrentState is { InUse: 0, Idle: 1 }, Is.True);
    }

    [Test]
    public async Task A_reader_that_arrives_while_the_body_is_being_kept_takes_over_without_losing_bytes()
    {
        var rest = new TaskCompletionSource();
        await using var raw = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + new string('a', 100_000));
            await rest.Task;
            await c.WriteAsync(new string('b', 100_000));
        });
        using var session = new ClientSession();
        ClientResponse? held = null;
        await session.Get(raw.Url()).Do(r => held = r).LastAsync().Timeout(TimeSpan.FromSeconds(10));
        var reading = held!.Read().ToTask();
        rest.SetResult();
        var body = await reading.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(body.Length, Is.EqualTo(200000));
        Assert.That(body.Count(b => b == 'a'), Is.EqualTo(100000));
        Assert.That(body[^1], Is.EqualTo((byte)'b'));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 1 }, what: "the connection back in the pool");
    }

    // Release() of a body still on its connection closes it; Content then failed with "released before its body was
    // read", but Read() and Text() took the closed body for an ended one and gave an empty body, and Json<T>() a
    // parse error, so a 100-byte answer read as nothing without an error (aiohttp raises after release() too).
    [TestCase("Content-Length: 100", "Read")]
    [TestCase("Content-Length: 100", "Text")]
    [TestCase("Content-Length: 100", "Json")]
    [TestCase("Transfer-Encoding: chunked", "Read")]
    [TestCase("Transfer-Encoding: chunked", "Text")]
    [TestCase("Content-Length: 100\r\nContent-Encoding: gzip", "Read")]
    public async Task A_body_released_before_it_was_read_fails_to_read_instead_of_reading_as_empty(string framing, string reader)
    {
        await using var raw = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\n\r\n");
            await c.WaitForCloseAsync();
        });
        using var session = new ClientSession();
        var r = await session.Get(raw.Url(), new RequestOptions { StreamResponse = true });
        r.Release();
        var error = Assert.ThrowsAsync<ClientPayloadError>(async () => _ = reader switch
        {
            "Read" => (object)await r.Read(),
            "Text" => await r.Text(),
            _ => await r.Json<int>(),
        });
        Assert.That(error!.Message, Does.Contain("released"));
    }

    [Test]
    public async Task A_small_body_that_came_with_its_head_is_off_the_connection_before_delivery()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var r = await session.Get("hello");
        Assert.That(r.Closed, Is.True);
        Assert.That(r.Connection, Is.Null);
        Assert.That(session.Connector.CurrentState is { InUse: 0, Idle: 1 }, Is.True);
        Assert.That(await r.Text(), Is.EqualTo(KestrelServer.Hello));
    }

    [Test]
    public async Task An_awaited_response_dropped_unreleased_is_closed_when_collected_and_reported()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var reports = new List<TraceEvent>();
        using var _ = session.Trace.Where(e => e.Kind == TraceEventKind.ResponseUnreleased).Subscribe(e => { lock (reports) reports.Add(e); });
        await DropAnAwaitedResponse(session);
        Assert.That(session.Connector.CurrentState.InUse, Is.EqualTo(1), "held by the dropped response until it is collected");
        await Wait.Until(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return session.Connector.CurrentState.InUse == 0;
        }, what: "the collected response's connection to close");
        await Wait.Until(() => { lock (reports) return reports.Count == 1; }, what: "the report");
        Assert.That(reports[0].Url.Path, Is.EqualTo("/bytes/3000000"));
        Assert.That(session.Connector.CurrentState.Idle, Is.Zero, "a half-read connection is closed, not pooled");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task DropAnAwaitedResponse(ClientSession session)
    {
        var r = await session.Get("bytes/3000000");
        Assert.That(r.Closed, Is.False);
    }
}
