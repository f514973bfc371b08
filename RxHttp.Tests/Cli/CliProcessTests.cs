using System.Diagnostics;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cli;

/// <summary>rxhttp as users run it: a separate process (`dotnet RxHttp.Cli.dll`) with real pipes and signals.</summary>
[TestFixture]
public class CliProcessTests : CliTestBase
{

    [Test]
    public async Task Piped_stdout_carries_the_raw_bytes_and_exit_codes_reach_the_shell()
    {
        var bytes = await CliRunner.RunProcessAsync("get", Server.Url("bytes/70000"));
        Assert.That(bytes.Code, Is.EqualTo(0), bytes.ToString());
        Assert.That(bytes.Stdout, Is.EqualTo(KestrelServer.Pattern(70000)));
        var json = await CliRunner.RunProcessAsync("get", Server.Url("json"));
        Assert.That(json.Out, Is.EqualTo("{\"name\":\"rx\",\"value\":42,\"list\":[1,2,3]}"));

        var missing = await CliRunner.RunProcessAsync("get", Server.Url("status/404"), "--check-status");
        Assert.That((missing.Code, missing.Stderr), Is.EqualTo((4, "rxhttp: warning: HTTP 404 Not Found\n")));
        var timeout = await CliRunner.RunProcessAsync("get", Server.Url("never"), "--timeout", "0.3");
        Assert.That(timeout.Code, Is.EqualTo(2), timeout.ToString());
        var bad = await CliRunner.RunProcessAsync("get", "http://[::1/");
        Assert.That(bad.Code, Is.EqualTo(1));
        Assert.That(bad.Stderr, Does.StartWith("rxhttp: error: bad URL").And.Not.Contain("   at "));
    }

    [Test]
    public async Task Stdin_is_the_body_and_websocket_lines_are_piped_through()
    {
        using (var p = CliRunner.Start("{\"from\":\"stdin\"}", "post", Server.Url("echo")))
        {
            var r = await CliRunner.Finish(p);
            Assert.That(r.Out, Does.Contain("\"body\":\"{\\u0022from\\u0022:\\u0022stdin\\u0022}\""), r.ToString());
        }
        using (var p = CliRunner.Start("ping\npong\n", "ws", Server.Url("ws/echo")))
        {
            var r = await CliRunner.Finish(p);
            Assert.That((r.Code, r.Out), Is.EqualTo((0, "ping\npong\n")), r.ToString());
        }
    }

    [Test]
    public async Task Download_names_the_file_after_the_response_and_never_overwrites()
    {
        var dir = Directory.CreateTempSubdirectory("rxhttp-dl-").FullName;
        try
        {
            for (var i = 0; i < 2; i++)
            {
                using var p = CliRunner.StartIn(dir, null, "get", Server.Url("file"), "--download");
                var r = await CliRunner.Finish(p);
                Assert.That(r.Code, Is.EqualTo(0), r.ToString());
                Assert.That(r.Stdout, Is.Empty);
            }
            Assert.That(await File.ReadAllBytesAsync(Path.Combine(dir, "data.bin")), Is.EqualTo(CliServer.File), "Content-Disposition names it");
            Assert.That(await File.ReadAllBytesAsync(Path.Combine(dir, "data.bin-1")), Is.EqualTo(CliServer.File), "a second run picks a new name");

            using var dot = CliRunner.StartIn(dir, null, "get", Server.Url("dotfile"), "--download");
            var d = await CliRunner.Finish(dot);
            Assert.That(d.Code, Is.EqualTo(0), d.ToString());
            Assert.That(File.Exists(Path.Combine(dir, ".profile")), Is.False, "a server cannot drop a hidden file");
            Assert.That(await File.ReadAllTextAsync(Path.Combine(dir, "profile")), Is.EqualTo("export X=1\n"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public async Task Sigint_cancels_the_request_and_exits_130()
    {
        var before = Server.ConnectionCount;
        using var p = CliRunner.Start(null, "get", Server.Url("never"));
        await Wait.Until(() => Server.ConnectionCount > before, 30, "the request to arrive");
        using (var kill = Process.Start("kill", new[] { "-INT", p.Id.ToString() })) await kill.WaitForExitAsync();
        var r = await CliRunner.Finish(p);
        Assert.That((r.Code, r.Stderr), Is.EqualTo((130, "rxhttp: interrupted\n")));
        await Wait.Until(() => Server.OpenConnections == 0, what: "the connection closed");
    }

    [Test]
    public async Task Sigint_in_ws_closes_the_websocket_as_going_away_and_exits_130()
    {
        Routes.WsOpened = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Routes.WsClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using var p = CliRunner.StartWithOpenInput("ws", Server.Url("ws/record"));
        // Ctrl-C during the handshake aborts the socket (there is no websocket yet to close); wait until one exists.
        await p.StandardInput.WriteLineAsync("ready");
        await p.StandardInput.FlushAsync();
        await Routes.WsOpened.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using (var kill = Process.Start("kill", new[] { "-INT", p.Id.ToString() })) await kill.WaitForExitAsync();
        var r = await CliRunner.Finish(p);
        Assert.That((r.Code, r.Stderr), Is.EqualTo((130, "rxhttp: interrupted\n")), r.ToString());
        Assert.That(await Routes.WsClosed.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(((int?)1001, "interrupted")),
            "the server got a CLOSE frame, not a dropped socket");
        await Wait.Until(() => Server.OpenConnections == 0, what: "the connection closed");
    }
}
