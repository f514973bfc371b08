using System.Diagnostics;
using System.Reactive.Linq;

namespace RxHttp.Benchmarks;

/// <summary>
/// "download" mode: the same body read through each of RxHttp's body APIs (and HttpClient's stream), to tell the
/// transport's cost from the cost of handing out fresh arrays. Each variant runs several rounds in turn (the machine
/// is shared, so single runs are noisy) and the median is printed at the end, with the process's CPU time (client and in-process server), which the
/// machine's other load disturbs less than the wall clock.
/// <c>download [--rounds N] [--filter text]</c>.
/// </summary>
internal static class DownloadVariants
{
    public static async Task<int> RunAsync(string[] args)
    {
        const long size = 256L << 20;
        var rounds = ModeArgs.Int(args, "--rounds", 3);
        var filter = ModeArgs.Text(args, "--filter");
        await using var server = await KestrelBenchServer.StartAsync(size);
        using var session = new ClientSession();
        using var client = new HttpClient();
        var url = Url.Parse(server.HttpBase + "big");
        var all = new List<(string Name, Func<Task<long>> Run)>
        {
            ("RxHttp Content observable", async () =>
            {
                var r = await session.Get(url);
                return await r.Content.Aggregate(0L, (s, c) => s + c.Length);
            }),
            ("RxHttp Content chunk sizes", async () =>
            {
                // How many chunks a read fills (a short read costs a second, exact array and a copy).
                var r = await session.Get(url);
                var (total, chunks, full) = await r.Content.Aggregate((0L, 0, 0), (s, c) => (s.Item1 + c.Length, s.Item2 + 1, s.Item3 + (c.Length == 65536 ? 1 : 0)));
                Console.WriteLine($"    {chunks} chunks, {full} of 64 KiB, mean {total / Math.Max(chunks, 1)} B");
                return total;
            }),
            ("RxHttp BorrowedContent observable", async () =>
            {
                var r = await session.Get(url);
                return await r.BorrowedContent.Aggregate(0L, (s, c) => s + c.Length);
            }),
            ("RxHttp IterChunked", async () =>
            {
                var r = await session.Get(url);
                long total = 0;
                await foreach (var c in r.IterChunked()) total += c.Length;
                return total;
            }),
            ("RxHttp GetStream, reused 64 KiB buffer", () => RxStreamAsync(session, url, () => Reused)),
            ("RxHttp GetStream, fresh 64 KiB per read", () => RxStreamAsync(session, url, () => GC.AllocateUninitializedArray<byte>(64 * 1024))),
            ("HttpClient stream, reused 64 KiB buffer", () => HcStreamAsync(client, server.HttpBase + "big", () => Reused)),
            ("HttpClient stream, fresh 64 KiB per read", () => HcStreamAsync(client, server.HttpBase + "big", () => GC.AllocateUninitializedArray<byte>(64 * 1024))),
        };
        var chunked = Url.Parse(server.HttpBase + "bigchunked");
        all.Add(("RxHttp Content observable, chunked", async () =>
        {
            var r = await session.Get(chunked);
            return await r.Content.Aggregate(0L, (s, c) => s + c.Length);
        }));
        all.Add(("RxHttp GetStream, reused 64 KiB, chunked", () => RxStreamAsync(session, chunked, () => Reused)));
        all.Add(("HttpClient stream, reused 64 KiB, chunked", () => HcStreamAsync(client, server.HttpBase + "bigchunked", () => Reused)));
        foreach (var kib in new[] { 16, 32, 128, 256 })
        {
            all.Add(($"RxHttp IterChunked({kib} KiB)", async () =>
            {
                var r = await session.Get(url);
                long total = 0;
                await foreach (var c in r.IterChunked(kib * 1024)) total += c.Length;
                return total;
            }));
        }
        var variants = all.Where(v => filter is null || v.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToArray();
        var results = variants.Select(_ => new List<double>()).ToArray();
        var cpu = variants.Select(_ => new List<double>()).ToArray();
        using var process = Process.GetCurrentProcess();
        foreach (var (_, run) in variants) await run(); // warm-up
        for (var round = 0; round < rounds; round++)
        {
            for (var v = 0; v < variants.Length; v++)
            {
                var (name, run) = variants[v];
                var gcs = GC.CollectionCount(0);
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                var got = await run();
                process.Refresh();
                var cpuMs = (process.TotalProcessorTime - cpu0).TotalMilliseconds;
                cpu[v].Add(cpuMs);
                if (got != size) throw new InvalidOperationException($"{name}: {got} bytes");
                var mbps = Measure.MBps(size, sw.Elapsed);
                results[v].Add(mbps);
                Console.WriteLine($"{name,-42} {mbps,8:0} MB/s  {cpuMs,6:0} ms CPU (both sides)  {GC.CollectionCount(0) - gcs,4} gen0 GCs");
            }
        }
        Console.WriteLine();
        Console.WriteLine("median:");
        for (var v = 0; v < variants.Length; v++)
        {
            var s = results[v].Order().ToArray();
            var c = cpu[v].Order().ToArray();
            Console.WriteLine($"{variants[v].Name,-42} {s[s.Length / 2],8:0} MB/s  {c[c.Length / 2],6:0} ms CPU");
        }
        return 0;
    }

    private static readonly byte[] Reused = new byte[64 * 1024];

    private static async Task<long> RxStreamAsync(ClientSession session, Url url, Func<byte[]> buffer)
    {
        var r = await session.Get(url);
        await using var s = r.GetStream();
        long total = 0;
        int n;
        while ((n = await s.ReadAsync(buffer())) > 0) total += n;
        return total;
    }

    private static async Task<long> HcStreamAsync(HttpClient client, string url, Func<byte[]> buffer)
    {
        using var r = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        await using var s = await r.Content.ReadAsStreamAsync();
        long total = 0;
        int n;
        while ((n = await s.ReadAsync(buffer())) > 0) total += n;
        return total;
    }
}
