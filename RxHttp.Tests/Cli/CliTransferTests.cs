using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cli;

/// <summary>rxhttp's downloads, streams, websockets, sessions, TLS, proxies, Unix sockets and Ctrl-C, in-process.</summary>
[TestFixture]
public class CliTransferTests : CliTestBase
{

    [Test]
    public async Task Output_saves_the_body_and_draws_a_progress_bar_on_a_terminal()
    {
        var r = await new CliRunner { ErrorTerminal = true }.RunAsync("get", U("bytes/300000"), "-o", F("big.bin"));
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(await File.ReadAllBytesAsync(F("big.bin")), Is.EqualTo(KestrelServer.Pattern(300000)));
        Assert.That(r.Stdout, Is.Empty);
        Assert.That(r.Stderr, Does.Contain("big.bin").And.Contain("100%").And.Contain("\u001b["), "Spectre's bar, coloured");
        Assert.That(r.Stderr, Does.Contain("rxhttp: saved").And.Contain("300000 bytes"));
        var quiet = await CliRunner.Run("get", U("bytes/1000"), "-o", F("small.bin"));
        Assert.That(quiet.Stderr, Does.Not.Contain("%"), "no bar when stderr is not a terminal");
        var silent = await new CliRunner { ErrorTerminal = true }.RunAsync("get", U("bytes/1000"), "-o", F("silent.bin"), "--quiet");
        Assert.That((silent.Code, silent.Stderr), Is.EqualTo((0, "")), "-q: no bar, no 'saved' line");
        Assert.That(await File.ReadAllBytesAsync(F("silent.bin")), Is.EqualTo(KestrelServer.Pattern(1000)));
    }

    [Test]
    public async Task Continue_resumes_with_a_range_request()
    {
        await File.WriteAllBytesAsync(F("resume.bin"), CliServer.File[..30000]);
        var r = await CliRunner.Run("get", U("file"), "-o", F("resume.bin"), "--continue");
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(Routes.LastRange, Is.EqualTo("bytes=30000-"));
        Assert.That(await File.ReadAllBytesAsync(F("resume.bin")), Is.EqualTo(CliServer.File));
        Assert.That(r.Stderr, Does.Contain("100000 bytes (70000 received"));

        var again = await CliRunner.Run("get", U("file"), "-o", F("resume.bin"), "--continue");
        Assert.That(again.Code, Is.EqualTo(0), again.ToString());
        Assert.That(again.Stderr, Does.Contain("already complete"));
        Assert.That(await File.ReadAllBytesAsync(F("resume.bin")), Is.EqualTo(CliServer.File));
    }

    [Test]
    public async Task Continue_against_aServer_that_refuses_ranges_starts_again_and_says_so()
    {
        await File.WriteAllBytesAsync(F("refused.bin"), CliServer.File[..30000]);
        var r = await CliRunner.Run("get", U("file-norange"), "-o", F("refused.bin"), "--continue");
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(Routes.LastRange, Is.EqualTo("bytes=30000-"));
        Assert.That(r.Stderr, Does.Contain("does not resume downloads"));
        Assert.That(await File.ReadAllBytesAsync(F("refused.bin")), Is.EqualTo(CliServer.File), "rewritten, not appended");
    }

    [Test]
    public async Task A_download_follows_redirects_as_in_httpie()
    {
        var r = await CliRunner.Run("get", U("redirect/2"), "-o", F("moved.txt"));
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(await File.ReadAllTextAsync(F("moved.txt")), Is.EqualTo("done"));
        var tooMany = await CliRunner.Run("get", U("redirect/3"), "-o", F("far.txt"), "--max-redirects", "1");
        Assert.That(tooMany.Code, Is.EqualTo(6), tooMany.ToString());
        Assert.That(File.Exists(F("far.txt")), Is.False);
    }

    [Test]
    public async Task A_failed_download_writes_nothing()
    {
        var r = await CliRunner.Run("get", U("status/404"), "-o", F("missing.bin"));
        Assert.That(r.Code, Is.EqualTo(4));
        Assert.That(r.Stderr, Does.StartWith("rxhttp: error: HTTP 404 Not Found; nothing was written"));
        Assert.That(File.Exists(F("missing.bin")), Is.False);
    }

    [Test]
    public async Task Ctrl_c_during_a_download_disposes_the_request_and_tells_what_is_on_disk()
    {
        using var interrupt = new CancellationTokenSource();
        var run = new CliRunner { Interrupt = interrupt.Token }.RunAsync("get", U("endless"), "-o", F("endless.txt"));
        await Wait.Until(() => File.Exists(F("endless.txt")) && new FileInfo(F("endless.txt")).Length > 0, what: "bytes on disk");
        await interrupt.CancelAsync();
        var r = await run;
        Assert.That(r.Code, Is.EqualTo(130), r.ToString());
        Assert.That(r.Stderr, Does.Contain("download incomplete: ").And.Contain("--continue").And.EndWith("rxhttp: interrupted\n"));
        await Wait.Until(() => Server.OpenConnections == 0, what: "the connection closed");
    }

    [Test]
    public async Task Ctrl_c_while_waiting_for_a_response_exits_130()
    {
        using var interrupt = new CancellationTokenSource();
        var before = Server.ConnectionCount;
        var run = new CliRunner { Interrupt = interrupt.Token }.RunAsync("get", U("never"));
        await Wait.Until(() => Server.ConnectionCount > before, what: "the request");
        await interrupt.CancelAsync();
        var r = await run;
        Assert.That((r.Code, r.Stderr), Is.EqualTo((130, "rxhttp: interrupted\n")));
    }

    [Test]
    public async Task Stream_prints_events_as_they_arrive()
    {
        Routes.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new SignalStream("data: one");
        var run = new CliRunner { Terminal = true, Output = output }.RunAsync("get", U("sse"), "--stream", "--body");
        await output.Seen.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(run.IsCompleted, Is.False, "the first event is out while the response is still open");
        Routes.Gate.TrySetResult();
        var r = await run;
        Assert.That(r.Code, Is.EqualTo(0));
        Assert.That(r.Out, Is.EqualTo("data: one\n\ndata: two\n\n"));
    }

    [Test]
    public async Task Without_stream_a_terminal_waits_for_the_whole_body()
    {
        Routes.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new SignalStream("data: one");
        var run = new CliRunner { Terminal = true, Output = output }.RunAsync("get", U("sse"), "--body");
        var seen = await Task.WhenAny(output.Seen.Task, Task.Delay(500));
        Assert.That(seen, Is.Not.SameAs(output.Seen.Task), "buffered for formatting");
        Routes.Gate.TrySetResult();
        Assert.That((await run).Out, Does.Contain("data: two"));
    }

    [Test]
    public async Task Ws_sends_typed_lines_and_prints_the_messages()
    {
        var url = U("ws/echo").Replace("http://", "ws://");
        var r = await new CliRunner { Stdin = "one\ntwo words\n" }.RunAsync("ws", url);
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Is.EqualTo("one\ntwo words\n"));
        Assert.That(r.Stderr, Does.Not.Contain("closed"), "the end of input closed it: the server's answering CLOSE is not news");

        // Stdin left open: with an empty one our own CLOSE (end of input) would race the server's.
        var bye = await new CliRunner { StdinOpen = true }.RunAsync("ws", U("ws/bye"));
        Assert.That(bye.Code, Is.EqualTo(0), bye.ToString());
        Assert.That(bye.Out, Is.EqualTo("bye soon\n"));
        Assert.That(bye.Stderr, Does.Contain("the server closed the websocket (1000 done)"));

        var digest = await new CliRunner { Stdin = "" }.RunAsync("ws", url, "--auth-type", "digest", "-a", "me:pw");
        Assert.That((digest.Code, digest.Stderr), Is.EqualTo((1, "rxhttp: error: ws supports --auth with Basic only (or --bearer), not --auth-type digest\n")),
            "refused, not sent as Basic: digest was asked for to keep the password off the wire");

        var refused = await new CliRunner { Stdin = "" }.RunAsync("ws", U("hello"));
        Assert.That(refused.Code, Is.EqualTo(1));
        // The error's own message leads with the status: once, not twice.
        Assert.That(refused.Stderr, Does.Match(@"^rxhttp: error: websocket handshake failed: \d{3}, message='"));
    }

    [Test]
    public async Task Session_keeps_cookies_in_a_file_between_runs()
    {
        var env = new Dictionary<string, string> { ["RXHTTP_CONFIG_DIR"] = F("config") };
        var set = await new CliRunner { Env = env }.RunAsync("get", U("cookie/set?token=abc"), "--session", "me");
        Assert.That(set.Code, Is.EqualTo(0), set.ToString());
        var file = Path.Combine(F("config"), "sessions", $"127.0.0.1_{Server.Port}", "me.json");
        Assert.That(File.Exists(file), Is.True);
        if (!OperatingSystem.IsWindows()) Assert.That(File.GetUnixFileMode(file), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        var show = await new CliRunner { Env = env }.RunAsync("get", U("cookie/show"), "--session", "me");
        Assert.That(show.Out, Is.EqualTo("cookie=token=abc"));
        var without = await new CliRunner { Env = env }.RunAsync("get", U("cookie/show"));
        Assert.That(without.Out, Is.EqualTo("cookie="));
        var byPath = await CliRunner.Run("get", U("cookie/show"), "--session", file);
        Assert.That(byPath.Out, Is.EqualTo("cookie=token=abc"), "a NAME with a slash is a path");
    }

    [Test]
    public async Task Tls_is_verified_unless_told_otherwise()
    {
        var cert = KestrelServer.MakeCertificate();
        var client = KestrelServer.MakeCertificate("cli-client");
        await using var tls = await KestrelServer.StartAsync(
            app => app.MapGet("/whoami", (HttpContext c) => c.Connection.ClientCertificate?.Subject ?? "anonymous"),
            certificate: cert,
            configure: k => k.ConfigureHttpsDefaults(o =>
            {
                o.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                o.AllowAnyClientCertificate();
            }));
        var url = tls.Url("whoami");
        var refused = await CliRunner.Run("get", url);
        Assert.That(refused.Code, Is.EqualTo(1));
        Assert.That(refused.Stderr, Does.StartWith($"rxhttp: error: TLS failure with 127.0.0.1:{tls.Port}").And.Contain("--verify no skips the check"));
        // Not a certificate at fault but a server that does not speak TLS: the certificate hint would mislead.
        var plain = await CliRunner.Run("get", U("hello").Replace("http://", "https://"), "--verify", "no");
        Assert.That(plain.Code, Is.EqualTo(1));
        Assert.That(plain.Stderr, Does.StartWith("rxhttp: error: TLS failure with 127.0.0.1:").And.Not.Contain("--verify no"), plain.ToString());

        Assert.That((await CliRunner.Run("get", url, "--verify", "no")).Out, Is.EqualTo("anonymous"));
        var pem = F("ca.pem");
        await File.WriteAllTextAsync(pem, cert.ExportCertificatePem());
        Assert.That((await CliRunner.Run("get", url, "--cacert", pem)).Out, Is.EqualTo("anonymous"));
        Assert.That((await CliRunner.Run("get", url, "--verify", pem)).Out, Is.EqualTo("anonymous"));

        var clientPem = F("client.pem");
        using (var key = client.GetRSAPrivateKey()!)
            await File.WriteAllTextAsync(clientPem, client.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());
        var who = await CliRunner.Run("get", url, "--verify", "no", "--cert", clientPem);
        Assert.That(who.Out, Is.EqualTo("CN=cli-client"), who.ToString());
    }

    [Test]
    public async Task Proxy_receives_the_absolute_form()
    {
        await using var proxy = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nvia proxy");
        var r = await CliRunner.Run("get", "http://origin.invalid/x", "--proxy", proxy.Url(""));
        Assert.That((r.Code, r.Out), Is.EqualTo((0, "via proxy")), r.ToString());
        Assert.That(proxy.Requests.Single(), Does.StartWith("GET http://origin.invalid/x HTTP/1.1\r\n"));
    }

    [Test]
    public async Task A_tunnel_the_proxy_refuses_is_reported_with_its_status_once()
    {
        await using var proxy = RawServer.Respond("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n");
        var r = await CliRunner.Run("get", "https://origin.invalid/x", "--proxy", proxy.Url(""));
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.Stderr, Does.Match(@"^rxhttp: error: the proxy refused: 407, message='Proxy Authentication Required'"));
        Assert.That(proxy.Requests.Single(), Does.StartWith("CONNECT origin.invalid:443 HTTP/1.1\r\n"));
    }

    [Test]
    public async Task Unix_socket_carries_the_request()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rxhttp-cli-{Guid.NewGuid():N}.sock");
        await using var unix = await KestrelServer.StartAsync(app => app.MapGet("/host", (HttpContext c) => c.Request.Host.Value), unixSocket: path);
        try
        {
            var r = await CliRunner.Run("get", "http://docker.invalid/host", "--unix-socket", path);
            Assert.That((r.Code, r.Out), Is.EqualTo((0, "docker.invalid")), r.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
