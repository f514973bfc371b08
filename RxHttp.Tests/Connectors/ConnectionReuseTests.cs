using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A keep-alive connection carried from response to response: each keeps its own head, a read that finishes frees
/// the connection, a read given up closes it, and a request that leaves the pool's queue loses no lease.
/// </summary>
[TestFixture]
public class ConnectionReuseTests
{
    private KestrelServer _server = null!;
    private int _seq;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.MapGet("/seq", (HttpContext ctx) =>
        {
            // Same length every time, different bytes: a stale header string would go unnoticed by length alone.
            var n = Interlocked.Increment(ref _seq);
            ctx.Response.Headers["X-Seq"] = $"n{n % 10}";
            return Results.Bytes("ok"u8.ToArray(), "text/plain"); // with Content-Length, so "buffered" means "complete"
        });
        app.MapGet("/ct", (HttpContext ctx) =>
        {
            ctx.Response.ContentType = ctx.Request.Query["v"].ToString();
            return Results.Bytes("x"u8.ToArray(), ctx.Request.Query["v"].ToString());
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Headers_of_each_response_on_a_keep_alive_connection_are_its_own()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var before = _server.ConnectionCount;
        var seen = new List<string?>();
        for (var i = 0; i < 4; i++)
        {
            var r = await session.Get("seq");
            seen.Add(r.Headers["X-Seq"]);
            Assert.That(await r.Text(), Is.EqualTo("ok"));
        }
        Assert.That(_server.ConnectionCount - before, Is.EqualTo(1), "one keep-alive connection carried all four");
        Assert.That(seen.Distinct().Count(), Is.EqualTo(4), string.Join(",", seen));
    }

    [TestCase("text/plain", "text/plain", null)]
    [TestCase("Text/HTML; Charset=\"ISO-8859-1\"", "text/html", "ISO-8859-1")]
    [TestCase("application/vnd.API+json ; charset=utf-8 ; q=1", "application/vnd.api+json", "utf-8")]
    [TestCase("text/plain; charset=\"\"", "text/plain", null)]
    [TestCase("text/plain; charset=a; charset=b", "text/plain", "b")]
    [TestCase("text/plain; format; charset = koi8-r", "text/plain", "koi8-r")]
    public async Task Content_type_and_charset_are_parsed_like_aiohttp(string header, string mediaType, string? charset)
    {
        using var session = new ClientSession(_server.BaseUrl);
        var r = await session.Get("ct", new RequestOptions { Params = new QueryParams { { "v", header } } });
        Assert.Multiple(() =>
        {
            Assert.That(r.Headers["Content-Type"], Is.EqualTo(header));
            Assert.That(r.ContentType, Is.EqualTo(mediaType));
            Assert.That(r.Charset, Is.EqualTo(charset));
        });
        r.Release();
    }

    [Test]
    public async Task Read_of_a_buffered_body_is_delivered_during_subscribe_and_frees_the_connection()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var r = await session.Get("seq");
        // Taken off the connection with its head (Closed), or still to be read from the connection's buffer.
        await Wait.Until(() => r.Closed || r.Connection?.BufferedCount >= 2, what: "the 2-byte body has arrived");
        byte[]? body = null;
        using (r.Read().Subscribe(b => body = b)) { }
        Assert.That(body, Is.EqualTo("ok"u8.ToArray()), "delivered synchronously, before Subscribe returned");
        Assert.That(r.Closed, Is.True);
        Assert.That(await r.Read(), Is.EqualTo("ok"u8.ToArray()), "a second Read replays the cached body");
    }

    [Test]
    public async Task Read_that_has_to_wait_for_the_socket_still_completes()
    {
        await using var raw = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe");
            await Task.Delay(50);
            await c.WriteAsync("llo");
        });
        using var session = new ClientSession();
        var text = await session.Get(raw.Url()).SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo("hello"));
    }

    [Test]
    public async Task Disposing_a_pending_read_closes_the_connection_instead_of_returning_it()
    {
        var release = new TaskCompletionSource();
        await using var raw = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe");
            await release.Task;
        });
        using var session = new ClientSession();
        var r = await session.Get(raw.Url());
        var sub = r.Read().Subscribe(_ => Assert.Fail("no value after dispose"), _ => { });
        sub.Dispose();
        await Wait.Until(() => r.Closed, what: "cancelling the read releases the response");
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(0), "a half-read connection is not pooled");
        release.SetResult();
    }

    [Test]
    public void A_connector_that_completes_without_a_lease_fails_with_ClientConnectionError()
    {
        var e = Assert.ThrowsAsync<ClientConnectionError>(() => LeaseBridge.FirstLeaseValueAsync(Observable.Empty<Connection>(), CancellationToken.None).AsTask());
        Assert.That(e!.Message, Does.Contain("without a connection"));
    }

    [Test]
    public async Task A_request_cancelled_while_waiting_for_a_pool_slot_leaves_the_queue_and_loses_no_lease()
    {
        using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Limit = 1 }) });
        // An awaited response whose body stays on its connection (StreamResponse: not kept in memory) keeps the only slot until read.
        var holder = await session.Get("bytes/200000", new RequestOptions { StreamResponse = true });
        var waiting = session.Get("seq").Subscribe(_ => Assert.Fail("cancelled"), _ => { });
        await Wait.Until(() => session.Connector.CurrentState.Waiting == 1, what: "the second request queues at the limit");
        waiting.Dispose();
        await Wait.Until(() => session.Connector.CurrentState.Waiting == 0, what: "disposing leaves the queue");
        Assert.That((await holder.Read()).Length, Is.EqualTo(200000));
        var third = await session.Get("seq").SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(10));
        Assert.That(third, Is.EqualTo("ok"), "the slot came back to the pool");
        Assert.That(session.Connector.CurrentState.InUse, Is.EqualTo(0));
    }

    [Test]
    public async Task Requests_alternating_between_two_origins_each_reach_their_own_server_over_one_connection()
    {
        await using var a = await KestrelServer.StartAsync();
        await using var b = await KestrelServer.StartAsync();
        using var session = new ClientSession();
        for (var i = 0; i < 3; i++)
        {
            foreach (var server in new[] { a, b })
            {
                var response = await session.Get(server.Url("hello"));
                Assert.That(response.Url.Port, Is.EqualTo(Url.Parse(server.BaseUrl).Port));
                Assert.That(await response.Text(), Is.EqualTo(KestrelServer.Hello));
            }
        }
        Assert.That((a.ConnectionCount, b.ConnectionCount), Is.EqualTo((1, 1)), "each origin kept its own pooled connection");
        Assert.That(session.Connector.CurrentState.PerHost.Count, Is.Zero);
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(2));
    }
}
