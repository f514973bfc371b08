using System.Diagnostics;
using NUnit.Framework;

namespace RxHttp.Tests.Support;

/// <summary>
/// A python script run as a server (Debian's python3 with python3-aiohttp): the script defines <c>make_app()</c>,
/// which returns its <c>web.Application</c>; this serves it on a free port. Interop tests use it to have aiohttp's own
/// code judge what RxHttp sent.
/// </summary>
internal sealed class AiohttpScriptServer : IDisposable
{
    private readonly Process _python;
    private readonly string _scriptPath;

    private AiohttpScriptServer(Process python, string scriptPath, string baseUrl)
    {
        _python = python;
        _scriptPath = scriptPath;
        BaseUrl = baseUrl;
    }

    /// <summary>The server's root, ending in a slash.</summary>
    public string BaseUrl { get; }

    // Binds port 0 and prints "PORT n" once listening.
    private const string Serve = """

        import asyncio as _asyncio
        from aiohttp import web as _web

        async def _serve():
            runner = _web.AppRunner(make_app())
            await runner.setup()
            site = _web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            print("PORT", site._server.sockets[0].getsockname()[1], flush=True)
            await _asyncio.Event().wait()

        _asyncio.run(_serve())

        """;

    public static async Task<AiohttpScriptServer> StartAsync(string script, string name)
    {
        const string python = "/usr/bin/python3";
        Assert.That(File.Exists(python), "Debian's python3 with python3-aiohttp is required for the interop tests");
        var path = Path.Combine(Path.GetTempPath(), $"rxhttp-{name}-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(path, script + Serve);
        var process = Process.Start(new ProcessStartInfo(python, path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var server = new AiohttpScriptServer(process, path, "");
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        if (line is not null && line.StartsWith("PORT ")) return new AiohttpScriptServer(process, path, $"http://127.0.0.1:{line[5..]}/");
        var error = await process.StandardError.ReadToEndAsync();
        server.Dispose();
        Assert.Fail("aiohttp server did not start (apt-get install python3-aiohttp): " + error);
        throw new InvalidOperationException("unreachable: Assert.Fail throws");
    }

    public void Dispose()
    {
        if (!_python.HasExited) _python.Kill();
        _python.Dispose();
        File.Delete(_scriptPath);
    }
}
