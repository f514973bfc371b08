using System.Diagnostics;

namespace RxHttp.Tests.Support;

/// <summary>
/// Runs one of RxHttp.Soak's drivers as a child process (built next to the tests), so the figures it reports (peak
/// memory, open descriptors) are its own and not the test runner's.
/// </summary>
public static class ChildProcess
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        /// <summary>The value of <c>key=value</c> on the output's last line that has it.</summary>
        public string this[string key] =>
            Output.Split('\n').Reverse().SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(w => w.StartsWith(key + "=", StringComparison.Ordinal)).Select(w => w[(key.Length + 1)..]).FirstOrDefault()
            ?? throw new KeyNotFoundException($"'{key}' is not in the output:\n{Output}\n{Error}");

        public long Long(string key) => long.Parse(this[key]);
    }

    public static async Task<Result> RunSoakAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "RxHttp.Soak.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            // Generous: this bounds a hang, it does not time the work.
            await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(5)).Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"RxHttp.Soak {string.Join(' ', args)} did not finish.");
        }
        return new Result(process.ExitCode, await output, await error);
    }
}
