using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

[TestFixture]
public class ClientSessionTests : KestrelFixture
{
    private sealed record Echo(string Method, string Path, string? Query, Dictionary<string, string> Headers, string Body, int BodyLength, string Sha256);

    [Test]
    public async Task Quickstart_chain_from_the_design_card_works_as_written()
    {
        using var session = new ClientSession();
        var text = await session.Get(Server.Url("hello")).SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo(KestrelServer.Hello));
    }

    [Test]
    public async Task Response_exposes_status_headers_and_content_type()
    {
        await using var session = new ClientSession();
        var r = await session.Get(Server.Url("json"));
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(200));
            Assert.That(r.Reason, Is.EqualTo("OK"));
            Assert.That(r.Ok, Is.True);
            Assert.That(r.Version, Is.EqualTo(new Version(1, 1)));
            Assert.That(r.ContentType, Is.EqualTo("application/json"));
            Assert.That(r.Charset, Is.EqualTo("utf-8"));
            Assert.That(r.Headers["content-type"], Does.StartWith("application/json"));
            Assert.That(r.Url.ToString(), Is.EqualTo(Server.Url("json")));
            Assert.That(r.Method, Is.EqualTo("GET"));
        });
        var doc = await r.Json<JsonElement>();
        Assert.That(doc.GetProperty("value").GetInt32(), Is.EqualTo(42));
        Assert.That(r.Closed, Is.True, "reading to the end releases the connection");
    }

    [TestCase("GET")]
    [TestCase("POST")]
    [TestCase("PUT")]
    [TestCase("DELETE")]
    [TestCase("PATCH")]
    [TestCase("OPTIONS")]
    public async Task Every_verb_reaches_the_server_with_its_method(string method)
    {
        using var session = new ClientSession(Server.BaseUrl);
        IObservable<ClientResponse> call = method switch
        {
            "GET" => session.Get("echo"),
            "POST" => session.Post("echo"),
            "PUT" => session.Put("echo"),
            "DELETE" => session.Delete("echo"),
            "PATCH" => session.Patch("echo"),
            _ => session.Options("echo"),
        };
        var echo = await call.SelectMany(r => r.Json<Echo>());
        Assert.That(echo!.Method, Is.EqualTo(method));
        if (method is "POST" or "PUT" or "PATCH" or "DELETE")
            Assert.That(echo.Headers["Content-Length"], Is.EqualTo("0"), "aiohttp sends Content-Length: 0 for body methods without a body");
        else
            Assert.That(echo.Headers.ContainsKey("Content-Length"), Is.False);
    }

    [Test]
    public async Task Head_has_no_body_even_with_content_length()
    {
        using var session = new ClientSession();
        var r = await session.Head(Server.Url("hello"));
        Assert.That(r.Status, Is.EqualTo(200));
        Assert.That(r.Headers["Content-Length"], Is.EqualTo("13"));
        var body = await r.Read();
        Assert.That(body, Is.Empty);
        Assert.That(r.Closed, Is.True);
    }

    [Test]
    public async Task Bytes_string_and_json_bodies_arrive_with_their_content_types()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var bytes = KestrelServer.Pattern(100_000);
        var e1 = await session.Post("echo", new() { Data = bytes }).SelectMany(r => r.Json<Echo>());
        Assert.That(e1!.Headers["Content-Type"], Is.EqualTo("application/octet-stream"));
        Assert.That(e1.BodyLength, Is.EqualTo(bytes.Length));
        Assert.That(e1.Sha256, Is.EqualTo(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))));

        var e2 = await session.Post("echo", new() { Data = "héllo" }).SelectMany(r => r.Json<Echo>());
        Assert.That(e2!.Headers["Content-Type"], Is.EqualTo("text/plain; charset=utf-8"));
        Assert.That(e2.Body, Is.EqualTo("héllo"));

        var e3 = await session.Put("echo", new() { Json = new { a = 1, b = "x" } }).SelectMany(r => r.Json<Echo>());
        Assert.That(e3!.Headers["Content-Type"], Is.EqualTo("application/json"));
        Assert.That(e3.Body, Is.EqualTo("{\"a\":1,\"b\":\"x\"}"));
    }

    [Test]
    public void Json_and_data_together_are_rejected()
    {
        using var session = new ClientSession();
        Assert.ThrowsAsync<ArgumentException>(async () => await session.Post(Server.Url("echo"), new() { Data = "x", Json = 1 }));
    }

    [Test]
    public async Task Keep_alive_reuses_one_connection_counted_on_the_server()
    {
        await using var server = await KestrelServer.StartAsync();
        using var session = new ClientSession();
        for (var i = 0; i < 5; i++)
            Assert.That(await session.Get(server.Url("hello")).SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Connection_close_from_the_server_is_not_reused()
    {
        await using var server = await KestrelServer.StartAsync();
        using var session = new ClientSession();
        await session.Get(server.Url("close")).SelectMany(r => r.Text());
        await session.Get(server.Url("close")).SelectMany(r => r.Text());
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }

    // RFC 9112 §9.6: a client that sent "close" must not send another request on that connection, even when the
    // server's answer does not say close (this one answers every request as keep-alive and never closes first).
    [TestCase("close")]
    [TestCase("keep-alive, Close")]
    public async Task Connection_close_from_the_request_is_not_reused(string connection)
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        using var session = new ClientSession();
        var options = new RequestOptions { Headers = [new("Connection", connection)] };
        Assert.That(await session.Get(server.Url(), options).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(await session.Get(server.Url(), options).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(await session.Get(server.Url()).SelectMany(r => r.Text()), Is.EqualTo("ok"));
        Assert.That(server.ConnectionCount, Is.EqualTo(3), "without it, the connection is kept");
    }

    [Test]
    public async Task Chunked_response_is_reassembled()
    {
        using var session = new ClientSession();
        var text = await session.Get(Server.Url("chunked/50")).SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo(string.Concat(Enumerable.Range(0, 50).Select(i => $"chunk{i};"))));
    }

    [Test]
    public async Task Content_chunks_are_safe_to_buffer_with_ToList()
    {
        using var session = new ClientSession();
        var chunks = await session.Get(Server.Url("bytes/300000")).SelectMany(r => r.Content).ToList();
        Assert.That(chunks.Count, Is.GreaterThan(1));
        var all = chunks.SelectMany(c => c.ToArray()).ToArray();
        Assert.That(all, Is.EqualTo(KestrelServer.Pattern(65536).Concat(KestrelServer.Pattern(65536)).Concat(KestrelServer.Pattern(65536))
            .Concat(KestrelServer.Pattern(65536)).Concat(KestrelServer.Pattern(300000 - 4 * 65536)).ToArray()));
    }

    [Test]
    public async Task IterChunked_pulls_bounded_chunks()
    {
        using var session = new ClientSession();
        var r = await session.Get(Server.Url("bytes/10000"));
        var sizes = new List<int>();
        await foreach (var c in r.IterChunked(1000)) sizes.Add(c.Length);
        Assert.That(sizes.Sum(), Is.EqualTo(10000));
        Assert.That(sizes.Max(), Is.LessThanOrEqualTo(1000));
        Assert.That(r.Closed, Is.True);
    }

    [TestCase("gzip")]
    [TestCase("deflate")]
    [TestCase("rawdeflate")]
    [TestCase("br")]
    public async Task Compressed_bodies_are_decoded(string kind)
    {
        using var session = new ClientSession();
        var r = await session.Get(Server.Url("compressed/" + kind));
        Assert.That(r.RequestInfo.Headers["Accept-Encoding"], Is.EqualTo("gzip, deflate, br, zstd"));
        var text = await r.Text();
        Assert.That(text, Is.EqualTo(string.Concat(Enumerable.Repeat("compress me please ", 500))));
    }

    [Test]
    public async Task AutoDecompress_off_leaves_the_body_compressed()
    {
        using var session = new ClientSession(new ClientSessionOptions { AutoDecompress = false });
        var r = await session.Get(Server.Url("compressed/gzip"));
        var bytes = await r.Read();
        Assert.That(bytes[0], Is.EqualTo(0x1f));
        Assert.That(bytes[1], Is.EqualTo(0x8b));
    }

    [Test]
    public async Task Charset_from_content_type_decodes_text()
    {
        using var session = new ClientSession();
        var text = await session.Get(Server.Url("latin1")).SelectMany(r => r.Text());
        Assert.That(text, Is.EqualTo("café"));
    }

    [Test]
    public async Task Json_checks_the_content_type_like_aiohttp()
    {
        using var session = new ClientSession();
        var ex = Assert.ThrowsAsync<ContentTypeError>(async () => await session.Get(Server.Url("hello")).SelectMany(r => r.Json<JsonElement>()));
        Assert.That(ex!.Message, Does.Contain("text/plain"));
        var lenient = await session.Get(Server.Url("hello")).SelectMany(r => r.Json<string>(contentType: null).Catch<string?, ClientPayloadError>(_ => Observable.Return<string?>("not json")));
        Assert.That(lenient, Is.EqualTo("not json"));
    }

    [Test]
    public async Task RaiseForStatus_gives_a_typed_error_with_status()
    {
        using var session = new ClientSession();
        var r = await session.Get(Server.Url("status/404"));
        Assert.That(r.Ok, Is.False);
        var ex = Assert.Throws<ClientResponseError>(() => r.RaiseForStatus());
        Assert.That(ex!.Status, Is.EqualTo(404));
        Assert.That(ex.RequestInfo!.Url.ToString(), Does.EndWith("/status/404"));

        using var strict = new ClientSession(new ClientSessionOptions { RaiseForStatus = true });
        var ex2 = Assert.ThrowsAsync<ClientResponseError>(async () => await strict.Get(Server.Url("status/503")));
        Assert.That(ex2!.Status, Is.EqualTo(503));
    }

    [Test]
    public async Task Read_is_cached_and_text_after_read_replays_it()
    {
        using var session = new ClientSession();
        var r = await session.Get(Server.Url("hello"));
        var a = await r.Read();
        var b = await r.Read();
        var t = await r.Text();
        Assert.That(a, Is.SameAs(b));
        Assert.That(t, Is.EqualTo(KestrelServer.Hello));
    }

    [Test]
    public async Task Base_url_is_joined_and_an_absolute_url_wins()
    {
        using var session = new ClientSession(Server.BaseUrl);
        Assert.That(await session.Get("hello").SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        Assert.That(await session.Get(Server.Url("hello")).SelectMany(r => r.Text()), Is.EqualTo(KestrelServer.Hello));
        Assert.Throws<ArgumentException>(() => new ClientSession("http://127.0.0.1/api"));
        Assert.Throws<ArgumentException>(() => new ClientSession("/relative/"));
    }

    [Test]
    public async Task Default_and_request_headers_are_merged_request_winning()
    {
        using var session = new ClientSession(Server.BaseUrl, new ClientSessionOptions { Headers = new Dictionary<string, string> { ["X-A"] = "session", ["X-B"] = "session" } });
        var echo = await session.Get("echo", new() { Headers = new Dictionary<string, string> { ["X-B"] = "request" } }).SelectMany(r => r.Json<Echo>());
        Assert.That(echo!.Headers["X-A"], Is.EqualTo("session"));
        Assert.That(echo.Headers["X-B"], Is.EqualTo("request"));
        Assert.That(echo.Headers["User-Agent"], Does.StartWith("RxHttp/"));
    }

    [Test]
    public void Closed_session_refuses_requests()
    {
        var session = new ClientSession();
        session.Dispose();
        Assert.That(session.Closed, Is.True);
        Assert.ThrowsAsync<SessionClosedError>(async () => await session.Get(Server.Url("hello")));
    }

    [Test]
    public void Connection_refused_is_a_ClientConnectorError_with_host_and_port()
    {
        using var session = new ClientSession();
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var ex = Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get($"http://127.0.0.1:{port}/"));
        Assert.That(ex!.Port, Is.EqualTo(port));
        Assert.That(ex.Host, Is.EqualTo("127.0.0.1"));
        Assert.That(ex.SocketError, Is.EqualTo(System.Net.Sockets.SocketError.ConnectionRefused));
    }

    [Test]
    public void Invalid_url_fails_before_any_socket_opens()
    {
        using var session = new ClientSession();
        Assert.ThrowsAsync<NonHttpUrlClientError>(async () => await session.Get("ftp://127.0.0.1/x"));
        Assert.ThrowsAsync<InvalidUrlClientError>(async () => await session.Get("/relative/only"));
        Assert.That(session.Connector.CurrentState.Opening + session.Connector.CurrentState.Open, Is.Zero);
    }

    [Test]
    public async Task Redirects_are_followed_with_history()
    {
        using var session = new ClientSession();
        var r = await session.Get(Server.Url("redirect/3"));
        Assert.That(await r.Text(), Is.EqualTo("done"));
        Assert.That(r.History.Select(h => h.Status), Is.EqualTo(new[] { 302, 302, 302 }));
        Assert.That(r.Url.Path, Is.EqualTo("/redirect/0"));
    }

    [Test]
    public async Task Disposing_an_in_flight_request_closes_its_socket()
    {
        // Waits for the request itself, not the connection: disposed while still connecting, the request would leave a
        // fresh, unused connection to the pool (kept open, correctly), which is not what this test is about.
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await KestrelServer.StartAsync(app => app.MapGet("/hang", async (HttpContext c) =>
        {
            reached.TrySetResult();
            await Task.Delay(Timeout.Infinite, c.RequestAborted);
        }));
        using var session = new ClientSession();
        var sub = session.Get(server.Url("hang")).Subscribe(_ => { }, _ => { });
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(server.OpenConnections, Is.EqualTo(1));
        sub.Dispose();
        await Wait.Until(() => server.OpenConnections == 0, what: "the server to see the socket close");
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Opening: 0, Idle: 0 }, what: "the pool slot to be freed");
    }
}
