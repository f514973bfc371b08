using System.Diagnostics;

namespace RxHttp.Benchmarks;

/// <summary>
/// "cpushape" mode: one RxHttp shape against nginx, after a warm-up long enough for tiered compilation to settle (in
/// the first seconds of a process a request cost up to twice the CPU it costs later, which swamped the first
/// rounds of the <c>rx</c> mode), then N slices, each with its rate, process CPU µs per request, bytes and
/// thread-pool work items per request, and their medians. Compare two builds by alternating their processes.
/// <c>cpushape [--shape merge|mergetext|mergejson|workers|seq|hcseq] [--tls] [--rounds N] [--seconds S] [--warmup S]</c>
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
        var shape = ModeArgs.Text(args, "--shape", "merge");
        Measurement side = shape switch
        {
            "merge" => Measurement.Counted(shape, n => c.RxMergeAsync(n, ShapeClients.Body.Read)),
            "mergetext" => Measurement.Counted(shape, n => c.RxMergeAsync(n, ShapeClients.Body.Text)),
            "mergejson" => Measurement.Counted(shape, n => c.RxMergeAsync(n, ShapeClients.Body.Json)),
            "workers" => new(shape, s => c.RxWorkersAsync(s, ShapeClients.Body.Read)),
            "seq" => new(shape, c.RxSequentialAsync),
            "hcseq" => new(shape, c.HcSequentialAsync),
            _ => throw new ArgumentException($"unknown --shape {shape}"),
        };
        var warmupSeconds = ModeArgs.Number(args, "--warmup", 4);
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed.TotalSeconds < warmupSeconds) await side.Run(slice);
        var cpus = new List<double>();
        var rates = new List<double>();
        var bytes = new List<double>();
        var ab = args.Contains("--ab-lowwater");
        var abPoll = args.Contains("--ab-poll");
        var pollTicks = c.Rx.Connector.ResponsePollTicks;
        for (var round = 0; round < rounds; round++)
        {
            // A/B of the raised receive low-water mark in the same process: even rounds with it, odd ones without.
            if (ab) Transport.LowWaterStream.Enabled = round % 2 == 0;
            // A/B of polling for lone responses: even rounds poll, odd ones wait through the socket engine.
            if (abPoll) c.Rx.Connector.ResponsePollTicks = round % 2 == 0 ? pollTicks : 0;
            using var process = Process.GetCurrentProcess();
            var cpu0 = process.TotalProcessorTime;
            var bytes0 = GC.GetTotalAllocatedBytes();
            var items0 = ThreadPool.CompletedWorkItemCount;
            var polled0 = c.Rx.Connector.PolledResponses;
            var raises0 = Transport.LowWaterStream.Raises;
            var lowers0 = Transport.LowWaterStream.Lowers;
            var sys0 = SystemCpu.Read();
            var sw = Stopwatch.StartNew();
            var rate = await side.Run(slice);
            process.Refresh();
            var n = rate * sw.Elapsed.TotalSeconds;
            var us = (process.TotalProcessorTime - cpu0).TotalMicroseconds / n;
            cpus.Add(us);
            rates.Add(rate);
            bytes.Add((GC.GetTotalAllocatedBytes() - bytes0) / n);
            Console.WriteLine($"{shape}{(ab ? (round % 2 == 0 ? " low-water" : " plain") : abPoll ? (round % 2 == 0 ? " poll" : " nopoll") : "")} {rate,8:0} req/s {us,6:0.00} µs CPU/req {bytes[^1],6:0} B/req {(ThreadPool.CompletedWorkItemCount - items0) / n:0.00} work items/req, {(c.Rx.Connector.PolledResponses - polled0) / n:0.00} responses polled/req, raises {(Transport.LowWaterStream.Raises - raises0) / n:0.000}/req, lowers {(Transport.LowWaterStream.Lowers - lowers0) / n:0.000}/req; {SystemCpu.Read().PerRequest(sys0, n)}");
        }
        Console.WriteLine($"{shape}{(tls ? " tls" : "")}: median {Stats.Median(cpus):0.00} µs CPU/req, {Stats.Median(rates):0} req/s, {Stats.Median(bytes):0} B/req");
        return 0;
    }
}
