using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Aot;

/// <summary>
/// Publishes RxHttp.AotSmoke with NativeAOT (needs clang and zlib1g-dev, which test.sh installs), requires the
/// publish to report no trim or AOT warning from RxHttp, and runs the native binary against Kestrel: JSON
/// read and sent through source-generated metadata, a form and the cookie file.
/// </summary>
[NonParallelizable]
public class NativeAotTests
{
    [Test]
    public async Task The_library_publishes_with_NativeAOT_without_warnings_and_runs_json_both_ways()
    {
        var root = RepoRoot();
        var output = Path.Combine(Path.GetTempPath(), "rxhttp-aot-" + Guid.NewGuid().ToString("N"));
        try
        {
            var publish = Run("dotnet", $"publish \"{Path.Combine(root, "RxHttp.AotSmoke", "RxHttp.AotSmoke.csproj")}\" -c Release -o \"{output}\" -nologo", root, TimeSpan.FromMinutes(15));
            TestContext.Out.WriteLine(publish.Output);
            Assert.That(publish.ExitCode, Is.EqualTo(0), "dotnet publish failed:\n" + publish.Output);
            var trimWarnings = publish.Output.Split('\n').Where(l => l.Contains("warning IL", StringComparison.Ordinal)).ToList();
            Assert.That(trimWarnings, Is.Empty, "trim/AOT warnings");

            await using var server = await KestrelServer.StartAsync(app =>
                app.MapPost("/echo-json", async (HttpContext c) =>
                {
                    c.Response.ContentType = "application/json";
                    await c.Request.Body.CopyToAsync(c.Response.Body);
                }));
            var exe = Path.Combine(output, "RxHttp.AotSmoke");
            Assert.That(File.Exists(exe), Is.True, "no native binary at " + exe);
            Assert.That(File.Exists(Path.Combine(output, "RxHttp.dll")), Is.False, "the library must be compiled into the binary, not shipped as IL");
            var run = Run(exe, server.BaseUrl, root, TimeSpan.FromMinutes(1));
            TestContext.Out.WriteLine(run.Output);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
            Assert.That(run.Output, Does.Contain("AOT smoke: all checks passed"));
        }
        finally
        {
            try { Directory.Delete(output, recursive: true); } catch (IOException) { }
        }
    }

    private static (int ExitCode, string Output) Run(string file, string arguments, string workingDirectory, TimeSpan limit)
    {
        var psi = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {arguments} did not finish within {limit}");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RxHttp.sln"))) dir = dir.Parent;
        Assert.That(dir, Is.Not.Null, "repository root not found");
        return dir!.FullName;
    }
}
