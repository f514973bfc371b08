using System.Diagnostics;
using System.Text.RegularExpressions;
using NUnit.Framework;
using RxHttp.Samples.Tui.Views;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Samples;

/// <summary>
/// The UI sample for real: the app runs in tmux against its in-process demo server, keys are typed with send-keys and
/// the screen is read back with capture-pane (tmux comes from test.sh's install list).
/// </summary>
[NonParallelizable]
public class TuiAppTests
{
    [Test]
    public async Task Under_tmux_results_appear_a_cancelled_download_stops_a_server_error_shows_and_F5_retries()
    {
        var app = Path.Combine(TestContext.CurrentContext.TestDirectory, "RxHttp.Samples.Tui.dll");
        var downloads = Directory.CreateTempSubdirectory("rxhttp-tui-test-");
        var clock = Stopwatch.StartNew();
        void Step(string what) => TestContext.Out.WriteLine($"{clock.Elapsed.TotalSeconds:F2} s: {what}");
        try
        {
            // 1 MiB at 256 KiB/s: each download runs about 4 s, long enough to cancel one while it runs even on a
            // loaded machine; the searches below run meanwhile. The waits are guards, generous for the same reason.
            using var tmux = TmuxSession.Start(
                $"dotnet '{app}' --downloads '{downloads.FullName}' --download-size 1048576 --download-rate 262144; echo \"exit code $?\"; read line",
                110, 30);
            await tmux.WaitFor(s => s.Contains("Query:") && Ticks(s) >= 1 && s.Contains($"tick {Ticks(s)} "), "the first screen, with a websocket tick in both views", seconds: 120);
            Step("first screen");

            tmux.Send("F6");
            await tmux.WaitFor(s => MainWindow.DownloadNames.All(n => TmuxSession.Row(s, n).Contains("KiB")), "three downloads running");
            tmux.Send("F8");
            await tmux.WaitFor(s => TmuxSession.Row(s, "bravo.bin").Contains("cancelled"), "the second download cancelled");
            Step("downloads running, one cancelled");

            tmux.Send("rx", literal: true);
            var screen = await tmux.WaitFor(s => s.Contains("result(s) for \"rx\""), "the results for \"rx\"");
            Assert.That(screen, Does.Contain("rxjava").And.Contain("rxhttp").And.Not.Contain("kestrel"));
            Step("results");

            // "flaky": the server answers 503 to every other request, so the first try fails and F5 succeeds.
            tmux.Send("BSpace");
            tmux.Send("BSpace");
            tmux.Send("flaky", literal: true);
            await tmux.WaitFor(s => s.Contains("search \"flaky\" failed: 503 Service Unavailable (F5 retries)"), "the server error in the status line");
            Step("error shown");
            tmux.Send("F5");
            await tmux.WaitFor(s => s.Contains("result(s) for \"flaky\""), "the retried search's results");
            Step("retried");

            screen = await tmux.WaitFor(s => MainWindow.DownloadNames.Count(n => TmuxSession.Row(s, n).Contains("done")) == 2, "the other two downloads to finish");
            Step("downloads done");
            var bravo = TmuxSession.Row(screen, "bravo.bin");
            Assert.That(bravo, Does.Contain("cancelled"), "F8 cancelled the second download");
            Assert.That(int.Parse(Regex.Match(bravo, @"(\d+) KiB").Groups[1].Value), Is.LessThan(1024), "it stopped before its end");
            Assert.That(new FileInfo(Path.Combine(downloads.FullName, "alpha.bin")).Length, Is.EqualTo(1 << 20));
            Assert.That(File.Exists(Path.Combine(downloads.FullName, "bravo.bin")), Is.False, "the cancelled download left no partial file");
            var ticks = Ticks(screen);
            Assert.That(ticks, Is.GreaterThanOrEqualTo(3), "the feed stayed live");
            Assert.That(screen, Does.Contain($"tick {ticks} "), "both views show the same latest message");

            tmux.Send("Escape");
            await tmux.WaitFor(s => s.Contains("exit code 0"), "the app to quit cleanly on Esc");
            Step("quit");
        }
        finally
        {
            downloads.Delete(recursive: true);
        }
    }

    [TestCase("--url", "127.0.0.1:8080/", "--url takes an absolute http:// or https:// URL, not '127.0.0.1:8080/'")]
    [TestCase("--download-size", "4M", "--download-size takes a positive number of bytes, not '4M'")]
    public async Task A_mistyped_argument_is_one_line_and_exit_1_not_a_stack_trace(string option, string value, string message)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { Path.Combine(TestContext.CurrentContext.TestDirectory, "RxHttp.Samples.Tui.dll"), option, value }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var (stdout, stderr) = (p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        Assert.That((p.ExitCode, await stderr, await stdout), Is.EqualTo((1, $"rxhttp-tui: error: {message}\n", "")));
    }

    // The summary view's count.
    private static int Ticks(string screen) => Regex.Match(screen, @"(\d+) ticks") is { Success: true } m ? int.Parse(m.Groups[1].Value) : 0;
}
