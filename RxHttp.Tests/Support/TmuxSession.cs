using System.Diagnostics;
using NUnit.Framework;

namespace RxHttp.Tests.Support;

/// <summary>
/// A terminal program run in a tmux server of its own (<c>tmux -L</c>), driven with <c>send-keys</c> and read with
/// <c>capture-pane</c>, as a person at a terminal would. Disposing kills that tmux server and the program in it.
/// </summary>
public sealed class TmuxSession : IDisposable
{
    private readonly string _socket = $"rxhttp-test-{Environment.ProcessId}-{Guid.NewGuid():N}";
    private string _lastScreen = "";

    private TmuxSession() { }

    /// <summary>Starts <paramref name="shellCommand"/> in a detached session of the given size.</summary>
    public static TmuxSession Start(string shellCommand, int width, int height)
    {
        var session = new TmuxSession();
        session.Tmux("-f", "/dev/null", "new-session", "-d", "-s", "app", "-x", $"{width}", "-y", $"{height}", shellCommand);
        return session;
    }

    /// <summary>The screen as text, one line per row.</summary>
    public string Capture() => _lastScreen = Tmux("capture-pane", "-p", "-t", "app");

    /// <summary>Keys by tmux's names (<c>F5</c>, <c>Escape</c>, <c>BSpace</c>) or text with <paramref name="literal"/>.</summary>
    public void Send(string keys, bool literal = false)
    {
        if (literal) Tmux("send-keys", "-t", "app", "-l", keys);
        else Tmux("send-keys", "-t", "app", keys);
    }

    /// <summary>Polls the screen until <paramref name="condition"/> holds; on time-out the last screen is printed.</summary>
    public async Task<string> WaitFor(Func<string, bool> condition, string what, double seconds = 60)
    {
        try
        {
            await Wait.Until(() => condition(Capture()), seconds, what, pollMilliseconds: 50);
        }
        catch (AssertionException)
        {
            Assert.Fail($"Timed out waiting for {what}; the last screen:\n{_lastScreen}");
        }
        return _lastScreen;
    }

    /// <summary>The first screen row that contains <paramref name="text"/>, or "".</summary>
    public static string Row(string screen, string text) => screen.Split('\n').FirstOrDefault(l => l.Contains(text)) ?? "";

    private string Tmux(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-L");
        info.ArgumentList.Add(_socket);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"tmux {string.Join(' ', args)} failed: {stderr}");
        return stdout.Result;
    }

    /// <summary>Kills the tmux server, and with it the program.</summary>
    public void Dispose()
    {
        try { Tmux("kill-server"); }
        catch (InvalidOperationException) { }   // already gone
    }
}
