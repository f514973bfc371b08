using System.Diagnostics;
using System.Reactive.Linq;

namespace RxHttp.Benchmarks;

/// <summary>
/// "rx" mode: row 2r's shapes alone, alternating for several rounds, each with its rate, process CPU per request,
/// thread-pool work items and monitor lock contentions per request (where the Merge shape loses time shows as
/// contention: Rx's Merge subscribes the next request under its gate). <c>rx [--nginx] [--tls] [--rounds N]
/// [--seconds S] [--only merge]</c> (--only merge: RxHttp's Merge alone, to run under perf or dotnet-trace).
/// </summary>
internal static class RxShapeProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = ModeArgs.Int(args, "--rounds", 6);
        var seconds = ModeArgs.Number(args, "--seconds", 1);
        await using var kestrel = await KestrelBenchServer.StartAsync(1 << 20);
        await using var nginx = args.Contains("--nginx") || args.Contains("--tls") ? await NginxBenchServer.StartAsync(1 << 20) : null;
        var baseUrl = args.Contains("--tls") ? nginx!.TlsBase : nginx?.HttpBase ?? kestrel.HttpBase;
        await using var c = new ShapeClients(baseUrl, tls: args.Contains("--tls"));
        var slice = TimeSpan.FromSeconds(seconds);
        if (args.Contains("--sequential"))
        {
            // Rows 1/1t (or, with --fresh, a new connection and so a full TLS handshake per request).
            var f = new ShapeClients(baseUrl, tls: args.Contains("--tls"), fresh: args.Contains("--fresh"));
            await using var _ = f;
            return await AlternateAsync([new("RxHttp", f.RxSequentialAsync), new("HttpClient", f.HcSequentialAsync)], rounds, slice);
        }
        // --body read|text|json: what each request of the Merge and worker sides reads.
        var body = Enum.Parse<ShapeClients.Body>(ModeArgs.Text(args, "--body", "read"), ignoreCase: true);
        var sides = new List<Measurement>
        {
            Measurement.Counted("RxHttp Merge(64)", n => c.RxMergeAsync(n, body)),
            Measurement.Counted("RxHttp Merge(64) inline", async n =>
            {
                // The same with every subscription started inline, as before DeferredStart.
                ResponseObservable.AlwaysInline = true;
                try { return await c.RxMergeAsync(n, body); }
                finally { ResponseObservable.AlwaysInline = false; }
            }),
            new("RxHttp 64 workers", s => c.RxWorkersAsync(s, body)),
            new("HttpClient 64 workers", s => c.HcWorkersAsync(s, body)),
            Measurement.Counted("HttpClient Merge(64)", n => c.HcMergeAsync(n, body)),
        };
        if (ModeArgs.Text(args, "--only") == "merge") sides = sides.Take(1).ToList();
        // --side NAME: that side alone, to run under perf or dotnet-trace.
        if (ModeArgs.Text(args, "--side") is { Length: > 0 } side) sides = sides.Where(s => s.Name.Equals(side, StringComparison.OrdinalIgnoreCase)).ToList();
        if (args.Contains("--allocs"))
        {
            // What each side allocates, by type (sampled GC AllocationTick events, about one per 100 KB).
            foreach (var s in sides) await s.Run(slice);
            foreach (var s in sides)
            {
                using var listener = new AllocationProfile.AllocListener();
                var sw = Stopwatch.StartNew();
                var n = await s.Run(slice) * sw.Elapsed.TotalSeconds;
                listener.Dispose();
                Console.WriteLine($"{s.Name}: {listener.Bytes.Values.Sum() / n:0} B/req sampled");
                foreach (var (type, bytes) in listener.Bytes.OrderByDescending(kv => kv.Value).Take(14))
                    Console.WriteLine($"   ~{bytes / n,7:0} B/req  {type}");
            }
            return 0;
        }
        await AlternateAsync(sides, rounds, slice);
        // Where Merge's time goes: how long the inner subscriptions (run under Merge's gate) take, per request and
        // as a share of the wall time.
        for (var i = 0; i < 4; i++)
        {
            ResponseObservable.AlwaysInline = i % 2 == 1;
            var sw = Stopwatch.StartNew();
            var (count, ticks) = await c.RxMergeTimedAsync(20000);
            var wall = sw.Elapsed;
            Console.WriteLine($"RxHttp Merge(64){(ResponseObservable.AlwaysInline ? " inline" : "")} of 20000: {count / wall.TotalSeconds:0} req/s, Subscribe takes {ticks * 1e6 / Stopwatch.Frequency / count:0.0} µs per request, " +
                              $"{ticks / (double)Stopwatch.Frequency / wall.TotalSeconds * 100:0}% of the wall time under Merge's gate");
        }
        ResponseObservable.AlwaysInline = false;
        await RxChainCostAsync();
        return 0;
    }

    // What Rx's own operators of row 2r's shape cost per item, with no request: Range, Select, Merge(64), Do and Count
    // over an inner that emits and completes inside Subscribe, against subscribing the same inner in a loop. The
    // Merge shape pays this on top of row 2's workers; HttpClient's 64 Task workers do not.
    private static async Task RxChainCostAsync()
    {
        const int n = 1_000_000;
        var inner = Observable.Create<int>(o =>
        {
            o.OnNext(13);
            o.OnCompleted();
            return System.Reactive.Disposables.Disposable.Empty;
        });
        var observer = System.Reactive.Observer.Create<int>(_ => { });
        for (var round = 0; round < 3; round++)
        {
            var sw = Stopwatch.StartNew();
            var count = await Observable.Range(0, n).Select(_ => inner).Merge(ShapeClients.Concurrency).Do(v => ShapeClients.Check(v, 13)).Count();
            var chain = sw.Elapsed.TotalNanoseconds / count;
            sw.Restart();
            for (var i = 0; i < n; i++) inner.Subscribe(observer);
            var loop = sw.Elapsed.TotalNanoseconds / n;
            if (round > 0) Console.WriteLine($"Rx alone: Range.Select.Merge(64).Do.Count over an inner that completes at once: {chain:0} ns per item; subscribing the inner in a loop: {loop:0} ns");
        }
    }

    private static async Task<int> AlternateAsync(List<Measurement> sides, int rounds, TimeSpan slice)
    {
        foreach (var s in sides) await s.Run(slice / 2);
        var rates = sides.ToDictionary(s => s, _ => new List<double>());
        var cpus = sides.ToDictionary(s => s, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var side in round % 2 == 0 ? sides : Enumerable.Reverse(sides))
            {
                using var process = Process.GetCurrentProcess();
                var cpu0 = process.TotalProcessorTime;
                var items0 = ThreadPool.CompletedWorkItemCount;
                var locks0 = Monitor.LockContentionCount;
                var switches0 = ContextSwitches();
                var bytes0 = GC.GetTotalAllocatedBytes();
                var sw = Stopwatch.StartNew();
                var rate = await side.Run(slice);
                process.Refresh();
                var n = rate * sw.Elapsed.TotalSeconds;
                rates[side].Add(rate);
                cpus[side].Add((process.TotalProcessorTime - cpu0).TotalMicroseconds / n);
                Console.WriteLine($"{side.Name,-24} {rate,8:0} req/s  {(process.TotalProcessorTime - cpu0).TotalMicroseconds / n,6:0.0} µs CPU/req  " +
                                  $"{(ThreadPool.CompletedWorkItemCount - items0) / n:0.00} work items/req  {(Monitor.LockContentionCount - locks0) / n:0.000} lock contentions/req  " +
                                  $"{(ContextSwitches() - switches0) / n:0.00} context switches/req  {(GC.GetTotalAllocatedBytes() - bytes0) / n:0} B/req");
            }
        }
        foreach (var side in sides) Console.WriteLine($"{side.Name,-24} median {Stats.Median(rates[side]),8:0} req/s, {Stats.Median(rates[side]) / Stats.Median(rates[sides[^1]]):0.00} × the last, median {Stats.Median(cpus[side]):0.0} µs CPU/req");
        return 0;
    }

    // getrusage(RUSAGE_SELF): voluntary + involuntary context switches of every thread of the process, the exited
    // ones included (ru_nvcsw and ru_nivcsw are the 13th and 14th longs after the two timevals).
    private static long ContextSwitches()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        var usage = new long[18];
        if (GetRUsage(0, usage) != 0) return 0;
        return usage[16] + usage[17];
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRUsage(int who, [System.Runtime.InteropServices.Out] long[] usage);
}
