using System.Text;
using System.Text.Json;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cli;

/// <summary>rxhttp's output, redirects, timeouts and failures, run in-process against Kestrel and raw servers.</summary>
[TestFixture]
public class CliRequestTests : CliTestBase
{
    [Test]
    public async Task A_terminal_gets_the_response_head_and_coloured_json_indented_by_four()
    {
        var r = await new CliRunner { Terminal = true }.RunAsync("get", U("json"));
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("HTTP/1.1 ").And.Contain("200 OK").And.Contain("Content-Type"));
        Assert.That(r.Out, Does.Contain("\u001b[94m\"name\"\u001b[0m: \u001b[33m\"rx\"\u001b[0m"));
        var plain = System.Text.RegularExpressions.Regex.Replace(r.Out, "\u001b\\[[0-9;]*m", "");
        Assert.That(plain, Does.Contain("{\n    \"name\": \"rx\",\n    \"value\": 42,\n    \"list\": [\n        1,"));
    }

    [Test]
    public async Task A_terminal_shows_json_strings_as_text_as_httpie_and_control_characters_still_escaped()
    {
        var r = await new CliRunner { Terminal = true }.RunAsync("get", U("json/escaped"), "--pretty", "format", "-b");
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("\"name\": \"caf\u00e9 \\\"q\\\" <b> \U0001F600\""), "escapes decoded; the quote stays escaped");
        Assert.That(r.Out, Does.Contain("\"esc\": \"\\u001b[31m\""));
        Assert.That(r.Out.Contains('\u001b'), Is.False, "an ESC never reaches the terminal raw");

        var piped = await CliRunner.Run("get", U("json/escaped"));
        Assert.That(piped.Out, Does.Contain("caf\\u00E9"), "a pipe still gets the server's bytes");
    }

    [Test]
    public async Task Piped_output_is_the_body_byte_for_byte()
    {
        var r = await CliRunner.Run("get", U("bytes/70000"));
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stdout, Is.EqualTo(KestrelServer.Pattern(70000)));
        var json = await CliRunner.Run("get", U("json"));
        Assert.That(json.Out, Is.EqualTo("{\"name\":\"rx\",\"value\":42,\"list\":[1,2,3]}"), "no formatting, no colour, no head: | jq sees the server's bytes");
    }

    [Test]
    public async Task Connect_timeout_fires_on_a_listener_that_never_accepts()
    {
        using var hole = new RxHttp.Tests.Connectors.Blackhole();
        var url = $"http://127.0.0.2:{hole.Port}/";
        var r = await CliRunner.Run("get", url, "--connect-timeout", "0.3");
        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.Stderr, Does.StartWith("rxhttp: error: timed out").And.Contain("onnect"), "it names the connect phase");
        Assert.That(r.Stderr.TrimEnd('\n'), Does.Not.Contain("\n"));
        // The same address is reachable a moment later on its answering twin: the flag bounded the connect, not the run.
        var answered = await CliRunner.Run("get", $"http://127.0.0.1:{hole.Port}/", "--connect-timeout", "0.3", "--timeout", "0.3");
        Assert.That(answered.Stderr, Does.Not.Contain("onnect"), answered.ToString());
    }

    [Test]
    public async Task Redirects_are_shown_unless_followed_and_too_many_exit_6()
    {
        var shown = await CliRunner.Run("get", U("redirect/2"), "--headers");
        Assert.That(shown.Out, Does.StartWith("HTTP/1.1 302 Found\n").And.Contain("Location: /redirect/1"));
        Assert.That((await CliRunner.Run("get", U("redirect/2"), "--check-status")).Code, Is.EqualTo(3));
        Assert.That((await CliRunner.Run("get", U("status/304"), "--check-status")).Code, Is.EqualTo(3));
        var final304 = await CliRunner.Run("get", U("status/304"), "--check-status", "--follow");
        Assert.That((final304.Code, final304.Stderr), Is.EqualTo((0, "")), "with --follow a 3xx that ends the chain is no unfollowed redirect (httpie)");
        var followed = await CliRunner.Run("get", U("redirect/2"), "--follow", "--check-status");
        Assert.That((followed.Code, followed.Out), Is.EqualTo((0, "done")));
        var tooMany = await CliRunner.Run("get", U("redirect/5"), "-F", "--max-redirects", "2");
        Assert.That(tooMany.Code, Is.EqualTo(6));
        Assert.That(tooMany.Stderr, Does.StartWith("rxhttp: error: too many redirects (2 followed, the limit;"));
    }

    [Test]
    public async Task Verbose_headers_body_and_print_choose_what_is_shown()
    {
        var v = await CliRunner.Run("post", U("echo"), "a=1", "-v");
        Assert.That(v.Out, Does.StartWith($"POST /echo HTTP/1.1\nHost: 127.0.0.1:{Server.Port}\n"));
        Assert.That(v.Out, Does.Contain("Content-Length: 9\n\n{\"a\":\"1\"}\n").And.Contain("HTTP/1.1 200 OK\n").And.EndWith("}"));

        var h = await CliRunner.Run("get", U("hello"), "-h");
        Assert.That(h.Out, Does.StartWith("HTTP/1.1 200 OK\n").And.Not.Contain(KestrelServer.Hello));
        var b = await new CliRunner { Terminal = true }.RunAsync("get", U("hello"), "--body");
        Assert.That(b.Out, Is.EqualTo(KestrelServer.Hello + "\n"));
        var p = await CliRunner.Run("get", U("hello"), "--print", "Hh");
        Assert.That(p.Out, Does.StartWith("GET /hello HTTP/1.1\n").And.Contain("HTTP/1.1 200 OK").And.Not.Contain(KestrelServer.Hello));
    }

    [Test]
    public async Task Verbose_with_follow_shows_each_hop_and_the_body_only_where_it_was_sent()
    {
        await using var raw = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
                await c.WriteAsync(request.StartsWith("POST /form ", StringComparison.Ordinal)
                    ? "HTTP/1.1 303 See Other\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        var r = await CliRunner.Run("post", raw.Url("/form"), "a=1", "-v", "--follow");
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        var post = r.Out.IndexOf("POST /form HTTP/1.1\n", StringComparison.Ordinal);
        var see = r.Out.IndexOf("HTTP/1.1 303 See Other\n", StringComparison.Ordinal);
        var get = r.Out.IndexOf("GET /done HTTP/1.1\n", StringComparison.Ordinal);
        Assert.That(post, Is.GreaterThanOrEqualTo(0), r.Out);
        Assert.That(new[] { post, see, get }, Is.Ordered.And.Unique, "POST, its 303, then the GET");
        Assert.That(r.Out[post..see], Does.Contain("{\"a\":\"1\"}"), "the POST carried the body");
        Assert.That(r.Out[get..], Does.Not.Contain("{\"a\":\"1\"}"), "the GET after the 303 did not");
        Assert.That(r.Out, Does.EndWith("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"));
    }

    [Test]
    public async Task Pretty_overrides_what_the_terminal_decides()
    {
        var none = await new CliRunner { Terminal = true }.RunAsync("get", U("json"), "--pretty", "none", "--body");
        Assert.That(none.Out, Is.EqualTo("{\"name\":\"rx\",\"value\":42,\"list\":[1,2,3]}"));
        var all = await CliRunner.Run("get", U("json"), "--pretty", "all");
        Assert.That(all.Out, Does.Contain("\u001b[94m\"name\"").And.Contain("\n    "));
        var format = await CliRunner.Run("get", U("json"), "--pretty", "format");
        Assert.That(format.Out, Does.StartWith("{\n    \"name\": \"rx\""));
        Assert.That(format.Out.Contains('\u001b'), Is.False);
        var noColor = await new CliRunner { Terminal = true, Env = { ["NO_COLOR"] = "1" } }.RunAsync("get", U("json"));
        Assert.That(noColor.Out.Contains('\u001b'), Is.False, "NUnit's string Contains ignores control characters: compare chars");
        var binary = await new CliRunner { Terminal = true }.RunAsync("get", U("bytes/1000"));
        Assert.That(binary.Out, Does.Contain("binary data not shown"));
    }

    [Test]
    public async Task A_terminal_never_gets_binary_even_raw_or_streamed()
    {
        foreach (var args in new[] { new[] { "--pretty", "none" }, new[] { "--stream" }, new[] { "--stream", "--pretty", "none" } })
        {
            var r = await new CliRunner { Terminal = true }.RunAsync(new[] { "get", U("bytes/1000"), "--body" }.Concat(args).ToArray());
            Assert.That(r.Code, Is.EqualTo(0), r.ToString());
            Assert.That(r.Out, Does.Contain("binary data not shown"), string.Join(' ', args));
            Assert.That(r.Stdout.Contains((byte)0), Is.False, string.Join(' ', args));
        }
        var piped = await CliRunner.Run("get", U("bytes/1000"), "--stream");
        Assert.That(piped.Stdout, Is.EqualTo(KestrelServer.Pattern(1000)), "a pipe still gets the bytes");
    }

    [Test]
    public async Task A_terminal_gets_a_body_in_another_charset_decoded_and_a_pipe_its_bytes()
    {
        await using var raw = RawServer.Body("text/plain; charset=iso-8859-1", [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'\n']);
        foreach (var extra in new[] { "--body", "--stream", "--pretty=none" })
        {
            var shown = await new CliRunner { Terminal = true }.RunAsync("get", raw.Url(), "--body", extra);
            Assert.That(shown.Out, Is.EqualTo("caf\u00e9\n"), extra);
        }
        var piped = await CliRunner.Run("get", raw.Url());
        Assert.That(piped.Stdout, Is.EqualTo(new byte[] { (byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'\n' }));
    }

    [Test]
    public async Task Offline_prints_the_request_byte_for_byte_and_sends_nothing()
    {
        var r = await CliRunner.Run("post", "http://example.invalid/x?y=1", "a=1", "n:=2", "X-A:b", "--offline");
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(Encoding.Latin1.GetString(r.Stdout), Is.EqualTo(
            "POST /x?y=1 HTTP/1.1\r\nHost: example.invalid\r\nContent-Type: application/json\r\nAccept: application/json, */*;q=0.5\r\n" +
            "X-A: b\r\nUser-Agent: rxhttp/0.1.0\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nContent-Length: 15\r\n\r\n{\"a\":\"1\",\"n\":2}"));
    }

    [Test]
    public async Task Offline_prints_the_parts_print_asks_for()
    {
        string[] args = { "post", "http://example.invalid/x", "a=1", "--offline", "--print" };
        var body = await CliRunner.Run(args.Append("B").ToArray());
        Assert.That((body.Code, body.Out), Is.EqualTo((0, "{\"a\":\"1\"}")), body.ToString());
        var head = await CliRunner.Run(args.Append("H").ToArray());
        Assert.That(head.Out, Does.StartWith("POST /x HTTP/1.1\r\n").And.EndWith("Content-Length: 9\r\n\r\n"));
        var formatted = await new CliRunner { Terminal = true }.RunAsync(args.Append("B").ToArray());
        Assert.That(formatted.Out, Is.EqualTo("{\n    \u001b[94m\"a\"\u001b[0m: \u001b[33m\"1\"\u001b[0m\n}\n"));
    }

    [Test]
    public async Task Offline_output_is_what_the_library_then_sends()
    {
        await using var raw = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        string[] args = { "put", raw.Url("/p?q=1"), "name=rx", "n:=[1,{\"a\":null}]", "--auth", "u:p", "Cookie:c=1" };
        var offline = await CliRunner.Run(args.Append("--offline").ToArray());
        var sent = await CliRunner.Run(args);
        Assert.That(sent.Out, Is.EqualTo("ok"));
        Assert.That(Encoding.Latin1.GetString(offline.Stdout), Is.EqualTo(raw.Requests.Single()));
    }

    [Test]
    public async Task Every_failure_is_one_line_on_stderr_without_a_stack_trace()
    {
        int closed;
        using (var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0)) { l.Start(); closed = ((System.Net.IPEndPoint)l.LocalEndpoint).Port; }
        var cases = new (string[] Args, string Message)[]
        {
            (new[] { "get", $"http://127.0.0.1:{closed}/" }, $"rxhttp: error: cannot connect to 127.0.0.1:{closed}: connection refused"),
            (new[] { "get", "http://no-such-host.invalid/" }, "rxhttp: error: cannot resolve host 'no-such-host.invalid'"),
            (new[] { "get", "http://[::1/" }, "rxhttp: error: bad URL"),
            (new[] { "get", U("hello"), "--pretty", "loud" }, "rxhttp: error: --pretty must be all, colors, format or none"),
            (new[] { "get", U("hello"), "--frobnicate" }, "rxhttp: error: unknown option '--frobnicate'"),
            (new[] { "get", U("hello"), "n:=nope" }, "rxhttp: error: 'n:=nope': not JSON"),
            (new[] { "get", U("hello"), "--timeout", "-1" }, "rxhttp: error: --timeout must be a positive number of seconds"),
            (new[] { "get", U("hello"), "--connect-timeout", "0" }, "rxhttp: error: --connect-timeout must be a positive number of seconds"),
            (new[] { "get", U("hello"), "--timeout", "1e300" }, "rxhttp: error: --timeout must be between 0.0000001 and 922337203685 seconds"),
            (new[] { "get", U("hello"), "--max-time", "1e-8" }, "rxhttp: error: --max-time must be between 0.0000001 and 922337203685 seconds"),
            (new[] { "-v", "--timeout", "5" }, "rxhttp: error: a URL is required: rxhttp [METHOD] URL [ITEM...]"),
            (new[] { "get", U("hello"), "--timeout", "abc" }, "rxhttp: error: --timeout takes a number of seconds, not 'abc'"),
            (new[] { "get", U("hello"), "--max-time", "1,5" }, "rxhttp: error: --max-time takes a number of seconds, not '1,5'"),
            (new[] { "get", U("hello"), "--max-redirects", "x" }, "rxhttp: error: --max-redirects takes a whole number, not 'x'"),
            (new[] { "get", U("hello"), "--cacert", "/no/such.pem" }, "rxhttp: error: --cacert: no such file"),
        };
        foreach (var (args, message) in cases)
        {
            var r = await CliRunner.Run(args);
            Assert.That(r.Code, Is.EqualTo(1), r.ToString());
            Assert.That(r.Stderr, Does.StartWith(message), string.Join(' ', args));
            Assert.That(r.Stderr.TrimEnd('\n'), Does.Not.Contain("\n"), "one line");
            Assert.That(r.Stdout, Is.Empty);
        }
        var debug = await CliRunner.Run("get", $"http://127.0.0.1:{closed}/", "--debug");
        Assert.That(debug.Stderr, Does.Contain("ClientConnectorError").And.Contain("   at "), "--debug shows the exception");
        Assert.That(debug.Stderr, Does.Contain("trace #"), "and the library's trace events");
    }

    [Test]
    public async Task Timeouts_exit_2()
    {
        var silent = await CliRunner.Run("get", U("never"), "--timeout", "0.3");
        Assert.That(silent.Code, Is.EqualTo(2), silent.ToString());
        Assert.That(silent.Stderr, Does.StartWith("rxhttp: error: timed out"));
        var total = await CliRunner.Run("get", U("endless"), "--max-time", "0.3");
        Assert.That(total.Code, Is.EqualTo(2), total.ToString());
        var fine = await CliRunner.Run("get", U("hello"), "--connect-timeout", "5", "--timeout", "5");
        Assert.That((fine.Code, fine.Out), Is.EqualTo((0, KestrelServer.Hello)));
    }

    [Test]
    public async Task Help_lists_the_options_and_exits_0()
    {
        var r = await CliRunner.Run("--help");
        Assert.That(r.Code, Is.EqualTo(0));
        Assert.That(r.Out, Does.Contain("--offline").And.Contain("--session").And.Contain("ws"));
    }
}
