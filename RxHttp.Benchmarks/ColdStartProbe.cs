using System.Diagnostics;
using System.Globalization;
using System.Reactive.Linq;
using System.Runtime;

namespace RxHttp.Benchmarks;

/// <summary>
/// "cold" mode: a new process's first request, RxHttp against HttpClient, each side in processes of its own (this
/// executable in "cold-once" mode), taking turns: the time from the start of Main to the session or client, to the
/// first response's body and to the second, and how many methods the JIT compiled and how long it took. The
/// framework HttpClient runs on is ReadyToRun-compiled; RxHttp and System.Reactive come as IL and are compiled on
/// first use, unless the app is published with <c>PublishReadyToRun</c> (or NativeAOT): run a published copy of this
/// executable (<c>dotnet publish RxHttp.Benchmarks -c Release -r linux-x64 -p:PublishReadyToRun=true -o DIR</c>,
/// then <c>DIR/RxHttp.Benchmarks cold</c>) and the children are that copy too.
/// <c>cold [--rounds N]</c>
/// </summary>
internal static class ColdStartProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = ModeArgs.Int(args, "--rounds", 5);
        await using var nginx = await NginxBenchServer.StartAsync(1 << 20);
        var url = nginx.HttpBase + "hello";
        var figures = new Dictionary<string, List<double[]>> { ["rx"] = [], ["hc"] = [] };
        for (var round = 0; round < rounds; round++)
        {
            foreach (var side in round % 2 == 0 ? new[] { "rx", "hc" } : ["hc", "rx"])
            {
                var line = await RunChildAsync(side, url).ConfigureAwait(false);
                Console.WriteLine($"{Name(side)}: {line}");
                figures[side].Add(line.Split(' ').Where(w => double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    .Select(w => double.Parse(w, CultureInfo.InvariantCulture)).ToArray());
            }
        }
        foreach (var (side, runs) in figures)
        {
            double Median(int i) => Stats.Median(runs.Select(r => r[i]).ToList());
            Console.WriteLine($"{Name(side),-10} median of {rounds}: session or client {Median(0):0.0} ms, first response {Median(1):0.0} ms " +
                              $"({Median(2):0} methods compiled, {Median(3):0} ms of JIT), second response {Median(4):0.00} ms");
        }
        return 0;
    }

    private static string Name(string side) => side == "rx" ? "RxHttp" : "HttpClient";

    private static async Task<string> RunChildAsync(string side, string url)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(ColdStartProbe).Assembly.Location);
        psi.ArgumentList.Add("cold-once");
        psi.ArgumentList.Add(side);
        psi.ArgumentList.Add(url);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Cannot start the cold-start child.");
        var output = await p.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        await p.WaitForExitAsync().ConfigureAwait(false);
        if (p.ExitCode != 0) throw new InvalidOperationException($"cold-once {side} exited with {p.ExitCode}: {output}");
        return output.Trim();
    }

    /// <summary>"cold-once rx|hc URL": one side's first two GETs in this new process; prints one line of figures.</summary>
    public static async Task<int> OnceAsync(string[] args, Stopwatch sinceMain)
    {
        var rx = args[1] == "rx";
        var url = args[2];
        var methods0 = JitInfo.GetCompiledMethodCount();
        var jit0 = JitInfo.GetCompilationTime();
        double created, first, second;
        long methods = 0;
        var jit = TimeSpan.Zero;
        // Counted up to the first response: what the second compiles is not the first request's wait.
        void FirstDone()
        {
            first = sinceMain.Elapsed.TotalMilliseconds;
            methods = JitInfo.GetCompiledMethodCount() - methods0;
            jit = JitInfo.GetCompilationTime() - jit0;
        }
        if (rx)
        {
            await using var session = new ClientSession();
            created = sinceMain.Elapsed.TotalMilliseconds;
            var target = Url.Parse(url);
            Check(await session.Get(target).SelectMany(r => r.Read()));
            FirstDone();
            var sw = Stopwatch.StartNew();
            Check(await session.Get(target).SelectMany(r => r.Read()));
            second = sw.Elapsed.TotalMilliseconds;
        }
        else
        {
            using var client = new HttpClient();
            created = sinceMain.Elapsed.TotalMilliseconds;
            var target = new Uri(url);
            Check(await client.GetByteArrayAsync(target));
            FirstDone();
            var sw = Stopwatch.StartNew();
            Check(await client.GetByteArrayAsync(target));
            second = sw.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"created at {created:0.0} ms, first response at {first:0.0} ms, {methods} methods compiled in {jit.TotalMilliseconds:0.0} ms, second response in {second:0.00} ms"));
        return 0;
    }

    private static void Check(byte[] body)
    {
        if (body.Length != 13) throw new InvalidOperationException("unexpected body length " + body.Length);
    }
}
