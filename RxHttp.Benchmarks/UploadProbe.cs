using System.Diagnostics;

namespace RxHttp.Benchmarks;

/// <summary>
/// "upload" mode: row 4 alone, many alternating pairs (each client first in turn), with the process CPU time of each
/// upload, so a gap can be told from the order and drift effects that a 10-round table mixes in.
/// <c>upload [--pairs N] [--size-mib N] [--fresh] [--idle-seconds N]</c>.
/// </summary>
internal static class UploadProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        var pairs = ModeArgs.Int(args, "--pairs", 10);
        // --idle-seconds: a pause before each pair, as the full run's other rows make (its rounds take ~20 s). Past a
        // pool's keep-alive timeout (RxHttp 15 s, HttpClient 60 s by default) that client opens a new connection.
        var idle = TimeSpan.FromSeconds(ModeArgs.Int(args, "--idle-seconds", 0));
        var size = (long)ModeArgs.Int(args, "--size-mib", 256) << 20;
        await using var kestrel = await KestrelBenchServer.StartAsync(1 << 20);
        // --fresh: a new connection per upload on both sides (a pooled one idle past the keep-alive timeout is closed
        // by the pool, and a new one starts with cold TCP buffers).
        var fresh = args.Contains("--fresh");
        await using var rx = new RxHttpSide(kestrel.HttpBase, kestrel.HttpBase, 64, freshConnections: fresh);
        await using var hc = new HttpClientSide(kestrel.HttpBase, kestrel.HttpBase, null, 64, freshConnections: fresh);
        IClientSide[] sides = [rx, hc];
        foreach (var s in sides) await s.UploadAsync(size);
        var ratios = new List<double>();
        var cpu = new Dictionary<string, List<double>> { [rx.Name] = [], [hc.Name] = [] };
        for (var p = 0; p < pairs; p++)
        {
            if (idle > TimeSpan.Zero) await Task.Delay(idle);
            var rates = new Dictionary<string, double>();
            foreach (var s in p % 2 == 0 ? sides : sides.Reverse())
            {
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                rates[s.Name] = await s.UploadAsync(size);
                cpu[s.Name].Add((Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / (size >> 20));
            }
            ratios.Add(rates[rx.Name] / rates[hc.Name]);
            Console.WriteLine($"pair {p + 1} ({(p % 2 == 0 ? "RxHttp" : "HttpClient")} first): RxHttp {rates[rx.Name],6:0} MB/s, HttpClient {rates[hc.Name],6:0} MB/s, ratio {ratios[^1]:0.00}");
        }
        ratios.Sort();
        Console.WriteLine($"median ratio {ratios[ratios.Count / 2]:0.00}; CPU ms per MiB (client and server): RxHttp {Median(cpu[rx.Name]):0.00}, HttpClient {Median(cpu[hc.Name]):0.00}");
        return 0;
    }

    private static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
}
