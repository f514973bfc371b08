using System.Diagnostics;
using System.Reactive.Linq;

namespace RxHttp.Benchmarks;

/// <summary>
/// "download" mode: the same body read through each of RxHttp's body APIs (and HttpClient's stream), to tell the
/// transport's cost from the cost of handing out fresh arrays.
/// </summary>
internal static class DownloadVariants
{
    public static async Task<int> RunAsync(string[] args)
    {
        const long size = 256L << 20;
        await using var server = await KestrelBenchServer.StartAsync(size);
        using var session = new ClientSession();
        using var client = new HttpClient();
        var url = Url.Parse(server.HttpBase + "big");
        var variants = new (string Name, Func<Task<long>> Run)[]
        {
            ("RxHttp Content observable", async () =>
            {
                var r = await session.Get(url);
                return await r.Content.Aggregate(0L, (s, c) => s + c.Length);
            }),
            ("RxHttp IterChunked", async () =>
            {
                var r = await session.Get(url);
                long total = 0;
                await foreach (var c in r.IterChunked()) total += c.Length;
                return total;
            }),
            ("RxHttp GetStream, reused 64 KiB buffer", async () =>
            {
                var r = await session.Get(url);
                await using var s = r.GetStream();
                var buffer = new byte[64 * 1024];
                long total = 0;
                int n;
                while ((n = await s.ReadAsync(buffer)) > 0) total += n;
                return total;
            }),
            ("HttpClient stream, reused 64 KiB buffer", async () =>
            {
                using var r = await client.GetAsync(server.HttpBase + "big", HttpCompletionOption.ResponseHeadersRead);
                await using var s = await r.Content.ReadAsStreamAsync();
                var buffer = new byte[64 * 1024];
                long total = 0;
                int n;
                while ((n = await s.ReadAsync(buffer)) > 0) total += n;
                return total;
            }),
        };
        foreach (var (_, run) in variants) await run(); // warm-up
        for (var round = 0; round < 3; round++)
        {
            foreach (var (name, run) in variants)
            {
                var gcs = GC.CollectionCount(0);
                var sw = Stopwatch.StartNew();
                var got = await run();
                if (got != size) throw new InvalidOperationException($"{name}: {got} bytes");
                Console.WriteLine($"{name,-42} {Measure.MBps(size, sw.Elapsed),8:0} MB/s  {GC.CollectionCount(0) - gcs,4} gen0 GCs");
            }
        }
        return 0;
    }
}
