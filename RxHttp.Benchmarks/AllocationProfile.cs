using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace RxHttp.Benchmarks;

/// <summary>
/// "allocs" mode: runs workload 1 for RxHttp (or HttpClient with --httpclient) under an in-process EventListener
/// that samples the runtime's GC AllocationTick events (one per ~100 KB allocated) and prints the types that
/// account for the allocations: the cheapest profiler that needs no external tool.
/// </summary>
internal static class AllocationProfile
{
    /// <summary>
    /// "cpu" mode: workload 1 (or 2 with --concurrent) alone for a while, to run under <c>perf</c> or
    /// <c>dotnet-trace collect -- ...</c>. With --both, RxHttp and HttpClient (and with --raw the raw-socket floor)
    /// alternate for six rounds, and each slice prints its rate, the process CPU time per request (against nginx,
    /// out of process, that is the client's own cost) and thread-pool work items per request.
    /// </summary>
    public static async Task<int> LoopAsync(string[] args)
    {
        var useHttpClient = args.Contains("--httpclient");
        var seconds = ModeArgs.Number(args, "--seconds", 10);
        var concurrent = args.Contains("--concurrent");
        await using var kestrel = await KestrelBenchServer.StartAsync(1 << 20);
        await using var nginx = (args.Contains("nginx") || args.Contains("--nginx")) ? await NginxBenchServer.StartAsync(1 << 20) : null;
        IBenchServer server = nginx is not null ? nginx : kestrel;
        await using IClientSide rx = new RxHttpSide(server.HttpBase, server.HttpBase, 64);
        await using IClientSide hc = new HttpClientSide(server.HttpBase, server.HttpBase, null, 64);
        // Its 64 connections are opened only when it takes part.
        await using IClientSide? raw = args.Contains("--raw") ? new RawSide(server.HttpBase, server.HttpBase, 64) : null;
        var sides = args.Contains("--both") ? (raw is not null ? new[] { rx, hc, raw } : new[] { rx, hc }) : useHttpClient ? new[] { hc } : new[] { rx };
        var rounds = args.Contains("--both") ? 6 : 1;
        foreach (var side in sides) await side.SequentialAsync(TimeSpan.FromSeconds(1));
        for (var round = 0; round < rounds; round++)
        {
            foreach (var side in round % 2 == 0 ? sides : sides.Reverse())
            {
                var cpu0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
                var items0 = ThreadPool.CompletedWorkItemCount;
                var sys0 = SystemCpu.Read();
                var sw = System.Diagnostics.Stopwatch.StartNew();
                var rate = concurrent ? await side.ConcurrentAsync(TimeSpan.FromSeconds(seconds), 64) : await side.SequentialAsync(TimeSpan.FromSeconds(seconds));
                var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu0;
                var n = rate * sw.Elapsed.TotalSeconds;
                Console.WriteLine($"{side.Name,-10}: {rate,8:0} {(concurrent ? "concurrent" : "sequential")} req/s over {seconds} s, {cpu.TotalMicroseconds / n,6:0.0} µs CPU per request (process, {server.Name}), {(ThreadPool.CompletedWorkItemCount - items0) / n:0.00} work items per request; {SystemCpu.Read().PerRequest(sys0, n)}");
            }
        }
        return 0;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var useHttpClient = args.Contains("--httpclient");
        await using var server = await KestrelBenchServer.StartAsync(1 << 20);
        await using IClientSide side = useHttpClient
            ? new HttpClientSide(server.HttpBase, server.HttpBase, null, 64)
            : new RxHttpSide(server.HttpBase, server.HttpBase, 64);
        await side.SequentialAsync(TimeSpan.FromSeconds(1));
        var requests = args.Contains("--long") ? 100000 : 20000;
        // Thread-pool work items and lock contentions per request, measured on a loop of their own (no listener):
        // every work item is a wake-up and often a context switch, which is what CPU per request costs on few cores.
        var items0 = ThreadPool.CompletedWorkItemCount;
        var contention0 = Monitor.LockContentionCount;
        await side.AllocationsAsync(requests);
        var items = (ThreadPool.CompletedWorkItemCount - items0) / (double)requests;
        var contention = (Monitor.LockContentionCount - contention0) / (double)requests;
        // The floor: a raw socket client on the same server (what the in-process server itself costs).
        using (var raw = new RawBaseline(server.HttpBase))
        {
            for (var w = 0; w < 1000; w++) await raw.GetAsync();
            var rawItems0 = ThreadPool.CompletedWorkItemCount;
            for (var w = 0; w < requests; w++) await raw.GetAsync();
            Console.WriteLine($"raw socket client: {(ThreadPool.CompletedWorkItemCount - rawItems0) / (double)requests:0.00} thread-pool work items per request (the server's share plus one read completion)");
        }
        // The same under 64 concurrent requests, where lock contention in the pool and the timer wheel shows.
        items0 = ThreadPool.CompletedWorkItemCount;
        contention0 = Monitor.LockContentionCount;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var rate = await side.ConcurrentAsync(TimeSpan.FromSeconds(2), 64);
        var done = rate * sw.Elapsed.TotalSeconds;
        Console.WriteLine($"{side.Name}: 64 concurrent: {rate:0} req/s, {(ThreadPool.CompletedWorkItemCount - items0) / done:0.00} work items and {(Monitor.LockContentionCount - contention0) / done:0.0000} lock contentions per request");
        using var listener = new AllocListener();
        var perRequest = await side.AllocationsAsync(requests);
        listener.Dispose();
        Console.WriteLine($"{side.Name}: {perRequest:0} B allocated per request (process-wide, server included), {requests} requests");
        Console.WriteLine($"{side.Name}: {items:0.00} thread-pool work items per request, {contention:0.0000} lock contentions per request (process-wide, server included)");
        var total = listener.Bytes.Values.Sum();
        foreach (var (type, bytes) in listener.Bytes.OrderByDescending(kv => kv.Value).Take(args.Contains("--all") ? 200 : 30))
            Console.WriteLine($"{bytes * 100.0 / total,6:0.0}%  ~{bytes / (double)requests,7:0} B/req  {type}");
        return 0;
    }

    internal sealed class AllocListener : EventListener
    {
        public ConcurrentDictionary<string, long> Bytes { get; } = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
            var typeIndex = e.PayloadNames!.IndexOf("TypeName");
            var amountIndex = e.PayloadNames.IndexOf("AllocationAmount64");
            if (typeIndex < 0 || amountIndex < 0) return;
            Bytes.AddOrUpdate((string)e.Payload[typeIndex]!, (long)(ulong)e.Payload[amountIndex]!, (_, v) => v + (long)(ulong)e.Payload[amountIndex]!);
        }
    }
}
