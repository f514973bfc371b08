using System.Diagnostics;

namespace RxHttp.Benchmarks;

/// <summary>
/// "latency" mode: sequential requests of both clients in interleaved slices, each request timed on its own, printed as
/// percentiles and mean. Throughput (row 1) is the mean's inverse, so a client with the lower median but a heavier
/// tail shows here and not there. <c>latency [--nginx] [--raw] [--raw-full]</c>: --raw adds the raw socket client,
/// --raw-full the same with RxHttp's default request headers (whether the server's cost for them matters).
/// </summary>
internal static class LatencyProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        await using var kestrel = await KestrelBenchServer.StartAsync(1 << 20);
        await using var nginx = args.Contains("--nginx") ? await NginxBenchServer.StartAsync(1 << 20) : null;
        IBenchServer server = nginx is not null ? nginx : kestrel;
        await using var rx = new RxHttpSide(server.HttpBase, server.HttpBase, 64);
        await using var hc = new HttpClientSide(server.HttpBase, server.HttpBase, null, 64);
        using var raw = new RawBaseline(server.HttpBase);
        var sides = new List<(string Name, Func<Task> One, List<long> Ticks)>
        {
            ("RxHttp", rx.GetHelloAsync, []),
            ("HttpClient", hc.GetHelloAsync, []),
        };
        if (args.Contains("--raw")) sides.Add(("raw", raw.GetAsync, []));
        using var rawFull = new RawBaseline(server.HttpBase, fullHeaders: true);
        if (args.Contains("--raw-full")) sides.Add(("raw-full", rawFull.GetAsync, []));
        foreach (var s in sides) for (var i = 0; i < 20000; i++) await s.One();
        const int perSlice = 2000;
        for (var slice = 0; slice < 40; slice++)
        {
            foreach (var s in slice % 2 == 0 ? sides : Enumerable.Reverse(sides))
            {
                for (var i = 0; i < perSlice; i++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    await s.One();
                    s.Ticks.Add(Stopwatch.GetTimestamp() - t0);
                }
            }
        }
        foreach (var s in sides)
        {
            var us = s.Ticks.Select(t => t * 1e6 / Stopwatch.Frequency).OrderBy(x => x).ToArray();
            double P(double q) => us[(int)(q * (us.Length - 1))];
            Console.WriteLine($"{s.Name,-10} n={us.Length} mean {us.Average(),6:0.0} µs  p10 {P(0.1),6:0.0}  p50 {P(0.5),6:0.0}  p90 {P(0.9),6:0.0}  p99 {P(0.99),7:0.0}  p99.9 {P(0.999),7:0.0}  max {us[^1],8:0}  sum>200µs {us.Where(x => x > 200).Sum() / us.Sum() * 100,5:0.0}%");
        }
        return 0;
    }
}
