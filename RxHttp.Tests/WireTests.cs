using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>
/// What our parser and body readers do with real bytes on a real socket, including responses no well-behaved
/// server sends. Every case runs twice: written at once, and dribbled one byte per send.
/// </summary>
[TestFixture]
public class WireTests
{
    private static IEnumerable<TestCaseData> Framings()
    {
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello", true).SetName("content_length");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", "hello world", true).SetName("chunked_with_extension_and_trailer");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", "until the end", false).SetName("read_until_eof");
        yield return new TestCaseData("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", "abc", false).SetName("http10_closes_by_default");
        yield return new TestCaseData("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc", "abc", true).SetName("http10_keep_alive");
        // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing; read it, then close.
        yield return new TestCaseData("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "abc", false).SetName("http10_chunked_is_never_kept");
        yield return new TestCaseData("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", true).SetName("informational_responses_skipped");
        yield return new TestCaseData("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", "", true).SetName("no_content_has_no_body");
        yield return new TestCaseData("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "", true).SetName("not_modified_has_no_body");
        // gzip("abc") as a transfer coding before chunked: both are undone, the connection goes on.
        var gzip = Encoding.Latin1.GetString(Convert.FromBase64String("H4sIAAAAAAACA0tMSgYAwkEkNQMAAAA="));
        yield return new TestCaseData($"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Encoding: identity\r\n\r\n{gzip.Length:x}\r\n{gzip}\r\n0\r\n\r\n", "abc", true).SetName("transfer_coding_before_chunked");
        yield return new TestCaseData("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "ok", true).SetName("bare_lf_line_endings");
        yield return new TestCaseData("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2;a=b\nok\n0\nX-T: t\n\n", "ok", true).SetName("bare_lf_in_chunked_framing");
        // chunk-size is 1*HEXDIG: more than 16 digits is no overflow when the extra ones are leading zeros.
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000000002\r\nok\r\n00000000000000000000\r\n\r\n", "ok", true).SetName("chunk_sizes_with_leading_zeros");
        // RFC 9112 §2.2: empty lines before a status line are skipped, also between a 100 Continue and the final response.
        yield return new TestCaseData("\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", true).SetName("empty_lines_before_status_line");
        yield return new TestCaseData("HTTP/1.1 100 Continue\r\n\r\n\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", true).SetName("empty_lines_after_100_continue");
    }

    // RFC 9112 §6.3 item 4: chunked not last means the body runs until the server closes, and is never reused. The
    // content under it is still chunked, which RxHttp does not undo there: a payload error, not chunk lines as the body.
    [TestCase("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, deflate\r\n\r\n5\r\nraw bytes", TestName = "chunked_then_deflate_reads_until_close")]
    [TestCase("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\nmore", TestName = "chunked_then_identity_line_reads_until_close")]
    public async Task Chunked_before_another_coding_runs_until_close_and_is_refused(string response)
    {
        foreach (var dribble in new[] { false, true })
        {
            await using var server = RawServer.Respond(response, dribble, closeAfter: true);
            using var session = new ClientSession();
            var error = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get(server.Url()).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20)));
            Assert.That(error!.Message, Does.Contain("transfer codings 'chunked, "));
            Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get(server.Url()).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20)));
            Assert.That(server.ConnectionCount, Is.EqualTo(2), dribble ? "dribbled" : "whole");
        }
    }

    [TestCaseSource(nameof(Framings))]
    public async Task Framing_is_honoured_whole_and_dribbled(string response, string expected, bool reusable)
    {
        foreach (var dribble in new[] { false, true })
        {
            await using var server = RawServer.Respond(response, dribble, closeAfter: !reusable);
            using var session = new ClientSession();
            var r = await session.Get(server.Url()).Timeout(TimeSpan.FromSeconds(20));
            Assert.That(await r.Text().Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo(expected), dribble ? "dribbled" : "whole");
            Assert.That(r.Closed, Is.True);
            // A second request proves whether the connection went back to the pool.
            var again = await session.Get(server.Url()).SelectMany(x => x.Read()).Timeout(TimeSpan.FromSeconds(20));
            Assert.That(server.ConnectionCount, Is.EqualTo(reusable ? 1 : 2), dribble ? "dribbled" : "whole");
        }
    }

    // Bytes behind a complete response answer nothing this client sent: the connection is closed at once, never
    // handed to the next request, also not to one queued for the pool's only slot (which got no idle-connection check).
    [TestCase(false, TestName = "bytes_after_a_response_with_nobody_waiting")]
    [TestCase(true, TestName = "bytes_after_a_response_with_a_request_waiting")]
    public async Task Bytes_after_a_complete_response_are_never_read_as_the_next_response(bool waiting)
    {
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connections = 0;
        await using var server = new RawServer(async c =>
        {
            var first = Interlocked.Increment(ref connections) == 1;
            while (await c.ReadRequestAsync() is not null)
            {
                if (!first)
                {
                    await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood");
                    continue;
                }
                await answer.Task;
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
                first = false;
            }
        });
        using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Limit = 1 }) });
        var one = session.Get(server.Url()).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)).ToTask();
        Task<string>? two = null;
        if (waiting)
        {
            two = session.Get(server.Url()).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)).ToTask();
            await Wait.Until(() => session.Connector.CurrentState.Waiting == 1, what: "the second request to queue for the slot");
        }
        answer.SetResult();
        Assert.That(await one, Is.EqualTo("ok"));
        if (!waiting)
        {
            Assert.That(session.Connector.CurrentState.Idle, Is.Zero, "closed when released, not kept idle");
            two = session.Get(server.Url()).SelectMany(r => r.Text()).Timeout(TimeSpan.FromSeconds(20)).ToTask();
        }
        Assert.That(await two!, Is.EqualTo("good"));
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }

    private static IEnumerable<TestCaseData> HeadErrors()
    {
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "Content-Length").SetName("cl_and_te_together");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "Content-Length").SetName("differing_duplicate_cl");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc", "Content-Length").SetName("non_digit_cl");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\nabc", "Content-Length").SetName("negative_cl");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", "CR").SetName("bare_cr_in_value");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n", "obs-fold").SetName("obs_fold");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 0\r\n\r\n", "").SetName("space_before_colon");
        yield return new TestCaseData("HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n", "").SetName("bad_version");
        yield return new TestCaseData("HTTP/5.6 200 OK\r\nContent-Length: 0\r\n\r\n", "HTTP/5.6").SetName("major_version_5");
        yield return new TestCaseData("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", "HTTP/2.0").SetName("major_version_2_on_http11");
        yield return new TestCaseData("HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", "bare CR").SetName("lone_cr_as_line_end");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\rX-A: b\r\n\r\n", "Bare CR").SetName("lone_cr_before_empty_line");
        yield return new TestCaseData("HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", "").SetName("two_digit_status");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Range(0, 129).Select(i => $"X-H{i}: v\r\n")) + "\r\n", "128").SetName("too_many_headers");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nX-Long: " + new string('a', 8200) + "\r\n\r\n", "8190").SetName("header_line_too_long");
        yield return new TestCaseData("HTTP/1.1 200 " + new string('a', 8200) + "\r\n\r\n", "8190").SetName("status_line_too_long");
    }

    [TestCaseSource(nameof(HeadErrors))]
    public async Task Smuggling_and_limit_cases_fail_with_ClientResponseError(string response, string mentions)
    {
        // Dribbled only where it stays quick: the limit cases are kilobytes long.
        foreach (var dribble in response.Length < 1024 ? new[] { false, true } : new[] { false })
        {
            await using var server = RawServer.Respond(response, dribble);
            using var session = new ClientSession();
            var ex = Assert.ThrowsAsync<ClientResponseError>(async () => await session.Get(server.Url()).Timeout(TimeSpan.FromSeconds(20)));
            Assert.That(ex!.Status, Is.EqualTo(400));
            Assert.That(ex.Message, Does.Contain(mentions));
            await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 0, Opening: 0 }, what: "the bad connection to be dropped");
        }
    }

    private static IEnumerable<TestCaseData> BodyErrors()
    {
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n").SetName("chunk_size_overflow");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").SetName("chunk_size_not_hex");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n").SetName("missing_crlf_after_chunk");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").SetName("short_body_then_close");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel").SetName("close_inside_chunk");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n25  \r\n" + new string('a', 0x25) + "\r\n0\r\n\r\n").SetName("chunk_size_trailing_whitespace");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\nab\r\n0\r\n\r\n").SetName("chunk_ext_empty_name");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\"b\r\nab\r\n0\r\n\r\n").SetName("chunk_ext_unbalanced_quote");
        yield return new TestCaseData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\rab\r\n0\r\n\r\n").SetName("chunk_size_lone_cr");
    }

    [TestCaseSource(nameof(BodyErrors))]
    public async Task Broken_bodies_fail_with_ClientPayloadError(string response)
    {
        foreach (var dribble in new[] { false, true })
        {
            await using var server = new RawServer(async c =>
            {
                await c.ReadRequestAsync();
                try
                {
                    await c.WriteAsync(response, dribble);
                    c.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // Dribbled: the client may fail the body and close before the last byte goes out.
                }
                await c.WaitForCloseAsync();
            });
            using var session = new ClientSession();
            var r = await session.Get(server.Url()).Timeout(TimeSpan.FromSeconds(20));
            Assert.ThrowsAsync<ClientPayloadError>(async () => await r.Read().Timeout(TimeSpan.FromSeconds(20)));
            Assert.That(r.Closed, Is.True);
            await server.ClientClosed.Task.Within();
            Assert.That(session.Connector.CurrentState.Open, Is.Zero);
        }
    }

    // A limit lifted to int.MaxValue: a 100 KB header is accepted, not "Read buffer limit reached" (an overflow made
    // the head's buffer cap 64 KiB) as a bare InvalidOperationException.
    [Test]
    public async Task A_limit_lifted_to_int_max_value_accepts_a_long_header()
    {
        var value = new string('v', 100_000);
        await using var server = RawServer.Respond($"HTTP/1.1 200 OK\r\nX-Big: {value}\r\nContent-Length: 2\r\n\r\nok");
        using var session = new ClientSession(new ClientSessionOptions { MaxFieldSize = int.MaxValue });
        var r = await session.Get(server.Url()).Timeout(TimeSpan.FromSeconds(20));
        Assert.That(r.Headers["X-Big"], Is.EqualTo(value));
        Assert.That(await r.Text().Timeout(TimeSpan.FromSeconds(20)), Is.EqualTo("ok"));
    }

    [Test]
    public async Task Server_closing_before_any_byte_is_ServerDisconnectedError()
    {
        await using var server = new RawServer(async c => await c.ReadRequestAsync());
        using var session = new ClientSession();
        Assert.ThrowsAsync<ServerDisconnectedError>(async () => await session.Post(server.Url()).Timeout(TimeSpan.FromSeconds(20)));
    }

    [Test]
    public async Task Request_head_is_written_as_aiohttp_writes_it()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var session = new ClientSession();
        await session.Post(server.Url("/p?q=1"), new() { Data = "hi" }).Timeout(TimeSpan.FromSeconds(20));
        var request = server.Requests.Single();
        var lines = request.Split("\r\n");
        Assert.That(lines[0], Is.EqualTo("POST /p?q=1 HTTP/1.1"));
        Assert.That(lines[1], Is.EqualTo($"Host: 127.0.0.1:{server.Port}"));
        Assert.That(lines, Does.Contain("Content-Length: 2"));
        Assert.That(lines, Does.Contain("Content-Type: text/plain; charset=utf-8"));
        Assert.That(request, Does.EndWith("\r\n\r\nhi"));
    }

    [Test]
    public async Task Chunked_upload_is_framed_correctly()
    {
        await using var server = new RawServer(async c =>
        {
            var buf = new byte[65536];
            var all = new StringBuilder();
            while (!all.ToString().EndsWith("0\r\n\r\n"))
            {
                var n = await c.Socket.ReceiveAsync(buf, System.Net.Sockets.SocketFlags.None);
                if (n == 0) break;
                all.Append(Encoding.Latin1.GetString(buf, 0, n));
            }
            server_seen = all.ToString();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        });
        using var session = new ClientSession();
        await session.Put(server.Url(), new() { Data = "abcdef", Chunked = true }).Timeout(TimeSpan.FromSeconds(20));
        Assert.That(server_seen, Does.Contain("Transfer-Encoding: chunked\r\n"));
        Assert.That(server_seen, Does.Not.Contain("Content-Length"));
        Assert.That(server_seen, Does.EndWith("\r\n\r\n6\r\nabcdef\r\n0\r\n\r\n"));
    }

    private static string server_seen = "";
}
