using System.Diagnostics;
using System.Globalization;

namespace RxHttp.Benchmarks;

/// <summary>curl on the same URL: the ceiling for a single stream on this machine.</summary>
internal static class Curl
{
    public static bool Available => File.Exists("/usr/bin/curl") || File.Exists("/usr/local/bin/curl");

    public static Task<double> DownloadAsync(string url) => RunAsync(["-s", "-o", "/dev/null", "-w", "%{speed_download}", url]);

    public static Task<double> UploadAsync(string url, string file) =>
        RunAsync(["-s", "-o", "/dev/null", "-X", "POST", "-H", "Expect:", "-H", "Content-Type: application/octet-stream", "-T", file, "-w", "%{speed_upload}", url]);

    private static async Task<double> RunAsync(string[] args)
    {
        var psi = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await p.WaitForExitAsync().ConfigureAwait(false);
        if (p.ExitCode != 0) throw new InvalidOperationException($"curl exited with {p.ExitCode}: {await p.StandardError.ReadToEndAsync().ConfigureAwait(false)}");
        return double.Parse(output.Trim(), CultureInfo.InvariantCulture) / 1e6;
    }
}
