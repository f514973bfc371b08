using System.Diagnostics;

namespace RxHttp.Benchmarks;

/// <summary>
/// "cpushape" mode: one RxHttp shape against nginx, after a warm-up long enough for tiered compilation to settle (in
/// the first seconds of a process a request cost up to twice the CPU it costs later, which swamped the first
/// rounds of the <c>rx</c> mode), then N slices, each with its rate, process CPU µs per request (and its user-mode part), bytes,
/// thread-pool work items and lock contentions per request, and their medians. Compare two builds by alternating their processes.
/// <c>cpushape [--shape merge|mergetext|mergejson|workers|seq|hcseq|hcworkers|hcmerge|urls|hcurls|rawworkers|rawmerge|rawmergeq] [--vs SHAPE] [--tls] [--rounds N] [--seconds S] [--warmup S]</c>
/// (urls, hcurls: row s3's URL list through <c>ToObservable().Select(...).Merge(8)</c>)
/// (raw*: the raw-socket floor of row 2″, as 64 workers or in row 2r's Merge(64) shape, started inline or queued)
/// (--vs: a second shape in the same process, in turns whose order alternates, and the median of the paired ratios: the benchmark's
/// contests, for two shapes alone).
/// </summary>
internal static class CpuShapeProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = ModeArgs.Int(args, "--rounds", 10);
        var slice = TimeSpan.FromSeconds(ModeArgs.Number(args, "--seconds", 1));
        var tls = args.Contains("--tls");
        await using var nginx = await NginxBenchServer.StartAsync(1 << 20);
        await using var c = new ShapeClients(tls ? nginx.TlsBase : nginx.HttpBase, tls: tls);
        await using var raw = new RawMergeShape(nginx.HttpBase);
        var shape = ModeArgs.Text(args, "--shape", "merge");
        var vs = ModeArgs.Text(args, "--vs", "");
        Measurement Side(string name) => name switch
        {
            "merge" => Measurement.Counted(name, n => c.RxMergeAsync(n, ShapeClients.Body.Read)),
            "mergetext" => Measurement.Counted(name, n => c.RxMergeAsync(n, ShapeClients.Body.Text)),
            "mergejson" => Measurement.Counted(name, n => c.RxMergeAsync(n, ShapeClients.Body.Json)),
            "workers" => new(name, s => c.RxWorkersAsync(s, ShapeClients.Body.Read)),
            "seq" => new(name, c.RxSequentialAsync),
            "hcseq" => new(name, c.HcSequentialAsync),
            "hcworkers" => new(name, s => c.HcWorkersAsync(s, ShapeClients.Body.Read)),
            "hcmerge" => Measurement.Counted(name, n => c.HcMergeAsync(n, ShapeClients.Body.Read)),
            "urls" => Measurement.Counted(name, c.RxUrlListAsync),
            "hcurls" => Measurement.Counted(name, c.HcUrlListAsync),
            "rawworkers" => new(name, raw.WorkersAsync),
            "rawmerge" => Measurement.Counted(name, n => raw.MergeAsync(n, queued: false)),
            "rawmergeq" => Measurement.Counted(name, n => raw.MergeAsync(n, queued: true)),
            _ => throw new ArgumentException($"unknown shape {name}"),
        };
        // With --vs, a second shape takes every other round in the same process, as the benchmark's contests do.
        var sides = vs.Length == 0 ? new[] { Side(shape) } : new[] { Side(shape), Side(vs) };
        var warmupSeconds = ModeArgs.Number(args, "--warmup", 4);
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed.TotalSeconds < warmupSeconds) foreach (var w in sides) await w.Run(slice);
        var cpuOf = sides.Select(_ => new List<double>()).ToArray();
        var rateOf = sides.Select(_ => new List<double>()).ToArray();
        var bytesOf = sides.Select(_ => new List<double>()).ToArray();
        // User-mode CPU apart: the kernel's share (the syscalls, the same for every client here) hides what a client's own code costs.
        var userOf = sides.Select(_ => new List<double>()).ToArray();
        var ab = args.Contains("--ab-lowwater");
        var abPoll = args.Contains("--ab-poll");
        var pollTicks = c.Rx.Connector.ResponsePollTicks;
        for (var round = 0; round < rounds * sides.Length; round++)
        {
            // A pass runs each side once; with two sides, every other pass runs them in the opposite order, so that
            // neither always goes second.
            var pass = round / sides.Length;
            var index = sides.Length == 2 && pass % 2 == 1 ? 1 - round % 2 : round % sides.Length;
            var side = sides[index];
            var (cpus, rates, bytes, users) = (cpuOf[index], rateOf[index], bytesOf[index], userOf[index]);
            // A/B of the raised receive low-water mark in the same process: even passes with it, odd ones without.
            if (ab) Transport.LowWaterStream.Enabled = pass % 2 == 0;
            // A/B of polling for lone responses: even passes poll, odd ones wait through the socket engine.
            if (abPoll) c.Rx.Connector.ResponsePollTicks = pass % 2 == 0 ? pollTicks : 0;
            using var process = Process.GetCurrentProcess();
            var cpu0 = process.TotalProcessorTime;
            var user0 = process.UserProcessorTime;
            var bytes0 = GC.GetTotalAllocatedBytes();
            var items0 = ThreadPool.CompletedWorkItemCount;
            var locks0 = Monitor.LockContentionCount;
            var polled0 = c.Rx.Connector.PolledResponses;
            var raises0 = Transport.LowWaterStream.Raises;
            var lowers0 = Transport.LowWaterStream.Lowers;
            var sys0 = SystemCpu.Read();
            var sw = Stopwatch.StartNew();
            var rate = await side.Run(slice);
            process.Refresh();
            var n = rate * sw.Elapsed.TotalSeconds;
            var us = (process.TotalProcessorTime - cpu0).TotalMicroseconds / n;
            var userUs = (process.UserProcessorTime - user0).TotalMicroseconds / n;
            cpus.Add(us);
            users.Add(userUs);
            rates.Add(rate);
            bytes.Add((GC.GetTotalAllocatedBytes() - bytes0) / n);
            Console.WriteLine($"{side.Name}{(ab ? (pass % 2 == 0 ? " low-water" : " plain") : abPoll ? (pass % 2 == 0 ? " poll" : " nopoll") : "")} {rate,8:0} req/s {us,6:0.00} µs CPU/req (user {userUs:0.00}) {bytes[^1],6:0} B/req {(ThreadPool.CompletedWorkItemCount - items0) / n:0.00} work items/req, {(c.Rx.Connector.PolledResponses - polled0) / n:0.00} responses polled/req, raises {(Transport.LowWaterStream.Raises - raises0) / n:0.000}/req, lowers {(Transport.LowWaterStream.Lowers - lowers0) / n:0.000}/req, {ThreadPool.ThreadCount} pool threads, {(Monitor.LockContentionCount - locks0) / n:0.0000} contentions/req; {SystemCpu.Read().PerRequest(sys0, n)}");
        }
        for (var i = 0; i < sides.Length; i++)
            Console.WriteLine($"{sides[i].Name}{(tls ? " tls" : "")}: median {Stats.Median(cpuOf[i]):0.00} µs CPU/req (user {Stats.Median(userOf[i]):0.00}), {Stats.Median(rateOf[i]):0} req/s, {Stats.Median(bytesOf[i]):0} B/req");
        if (sides.Length == 2)
        {
            // Paired as the benchmark pairs them: each pass's round of the first shape with its round of the second.
            var rate = rateOf[0].Zip(rateOf[1], (a, b) => a / b).Order().ToList();
            var cpu = cpuOf[0].Zip(cpuOf[1], (a, b) => a / b).ToList();
            Console.WriteLine($"{shape}/{vs}: rate {Stats.Median(rate):0.000} (middle half {rate[rate.Count / 4]:0.000}-{rate[3 * rate.Count / 4]:0.000}), CPU per request {Stats.Median(cpu):0.000}");
        }
        return 0;
    }
}
