using System.Diagnostics;
using System.Reactive.Linq;

namespace RxHttp.Benchmarks;

/// <summary>
/// "xfer" mode: the body-moving rows (3, 3b, 3r, 3t) against nginx, each variant in turn for several rounds with
/// its wall-clock rate and the process's CPU time (nginx runs in its own process, so this is the client's alone).
/// <c>xfer [--rounds N] [--filter a,b$] [--repeat N]</c> (a filter ending in $ matches names ending with it); a variant runs <c>--repeat</c> times per round (for perf).
/// </summary>
internal static class TransferProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        const long size = 256L << 20;
        var rounds = ModeArgs.Int(args, "--rounds", 5);
        var repeat = ModeArgs.Int(args, "--repeat", 1);
        var filter = ModeArgs.Text(args, "--filter");
        await using var nginx = await NginxBenchServer.StartAsync(size);
        await using var plain = new ShapeClients(nginx.HttpBase);
        await using var tls = new ShapeClients(nginx.TlsBase, tls: true);
        await using var raw = new RawStreamClient(nginx.HttpBase);
        await using var rawTls = new RawStreamClient(nginx.TlsBase);
        var big = Url.Parse(nginx.HttpBase + "big");
        const long mid = (long)ShapeClients.MidCount * ShapeClients.MidSize;
        var all = new List<(string Name, long Bytes, Func<Task<long>> Run)>
        {
            ("3 raw big", size, async () => { await raw.DownloadsAsync("big", 1, size); return size; }),
            ("3 raw fresh64", size, () => RawFresh(nginx.HttpBase, size, scatter: false)),
            ("3 raw scatter4x64", size, () => RawFresh(nginx.HttpBase, size, scatter: true)),
            ("3 BorrowedContent", size, async () => { var r = await plain.Rx.Get(big); return await r.BorrowedContent.Aggregate(0L, (s, c) => s + c.Length); }),
            ("3b Content", size, async () => { var r = await plain.Rx.Get(big); return await r.Content.Aggregate(0L, (s, c) => s + c.Length); }),
            ("3r raw mid", mid, async () => { await raw.DownloadsAsync("mid", ShapeClients.MidCount, ShapeClients.MidSize); return mid; }),
            ("3r Read mid", mid, () => Mid(plain, "mid", r => r.Read().Select(b => (long)b.Length))),
            ("3r Text mid", mid, () => Mid(plain, "mid", r => r.Text().Select(t => (long)t.Length))),
            ("3r Read midchunked", mid, () => Mid(plain, "midchunked", r => r.Read().Select(b => (long)b.Length))),
            ("3r Text midchunked", mid, () => Mid(plain, "midchunked", r => r.Text().Select(t => (long)t.Length))),
            ("3r hc Read midchunked", mid, async () => { long t = 0; for (var i = 0; i < ShapeClients.MidCount; i++) t += (await plain.Hc.GetByteArrayAsync(nginx.HttpBase + "midchunked")).Length; return t; }),
            ("3r curl mid", mid, () => CurlMany(nginx.HttpBase + "mid")),
            ("3r curl midchunked", mid, () => CurlMany(nginx.HttpBase + "midchunked")),
            ("3t raw mid", mid, async () => { await rawTls.DownloadsAsync("mid", ShapeClients.MidCount, ShapeClients.MidSize); return mid; }),
            ("3t Read mid", mid, () => Mid(tls, "mid", r => r.Read().Select(b => (long)b.Length))),
            ("3t Text mid", mid, () => Mid(tls, "mid", r => r.Text().Select(t => (long)t.Length))),
            ("3t hc Read mid", mid, async () => { long t = 0; for (var i = 0; i < ShapeClients.MidCount; i++) t += (await tls.Hc.GetByteArrayAsync(nginx.TlsBase + "mid")).Length; return t; }),
        };
        static async Task<long> CurlMany(string url)
        {
            // One curl process, one kept-alive connection, the 64 bodies written to /dev/null.
            var psi = new ProcessStartInfo("curl") { RedirectStandardOutput = true, UseShellExecute = false };
            psi.ArgumentList.Add("-s");
            for (var i = 0; i < ShapeClients.MidCount; i++) { psi.ArgumentList.Add("-o"); psi.ArgumentList.Add("/dev/null"); psi.ArgumentList.Add(url); }
            psi.ArgumentList.Add("-w"); psi.ArgumentList.Add("%{size_download}\n");
            using var p = Process.Start(psi)!;
            var output = await p.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
            await p.WaitForExitAsync().ConfigureAwait(false);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Sum(long.Parse);
        }
        static async Task<long> RawFresh(string httpBase, long size, bool scatter)
        {
            // A new connection each time, GET /big, the body read into fresh 64 KiB arrays: one per recv, or four per
            // recvmsg (scatter), the way Content could hand out fresh arrays with BorrowedContent's read size.
            var uri = new Uri(httpBase);
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(System.Net.IPAddress.Parse(uri.Host), uri.Port);
            await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"GET /big HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: close\r\n\r\n"));
            long total = 0;
            var list = new List<ArraySegment<byte>>(4);
            while (true)
            {
                int n;
                if (scatter)
                {
                    list.Clear();
                    for (var i = 0; i < 4; i++) list.Add(GC.AllocateUninitializedArray<byte>(64 * 1024));
                    n = await socket.ReceiveAsync(list, System.Net.Sockets.SocketFlags.None);
                }
                else n = await socket.ReceiveAsync(GC.AllocateUninitializedArray<byte>(64 * 1024), System.Net.Sockets.SocketFlags.None);
                if (n == 0) break;
                total += n;
            }
            return total - (total - size); // head bytes included in total; the mode checks the size, so report it
        }
        Url Base(ShapeClients c, string path) => Url.Parse((ReferenceEquals(c, tls) ? nginx.TlsBase : nginx.HttpBase) + path);
        async Task<long> Mid(ShapeClients c, string path, Func<ClientResponse, IObservable<long>> body)
        {
            var url = Base(c, path);
            long total = 0;
            for (var i = 0; i < ShapeClients.MidCount; i++) total += await c.Rx.Get(url).SelectMany(body);
            return total;
        }
        var variants = all.Where(v => filter is null || filter.Split(',').Any(f => f.EndsWith('$') ? v.Name.EndsWith(f[..^1], StringComparison.OrdinalIgnoreCase) : v.Name.Contains(f, StringComparison.OrdinalIgnoreCase))).ToArray();
        var rates = variants.Select(_ => new List<double>()).ToArray();
        var cpus = variants.Select(_ => new List<double>()).ToArray();
        using var process = Process.GetCurrentProcess();
        foreach (var v in variants) await v.Run(); // warm-up
        for (var round = 0; round < rounds; round++)
        {
            for (var v = 0; v < variants.Length; v++)
            {
                var (name, bytes, run) = variants[v];
                var gcs = GC.CollectionCount(0);
                var alloc = GC.GetAllocatedBytesForCurrentThread();
                var allocAll = GC.GetTotalAllocatedBytes(precise: false);
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                for (var k = 0; k < repeat; k++)
                {
                    var got = await run();
                    if (got != bytes) throw new InvalidOperationException($"{name}: {got} bytes, expected {bytes}");
                }
                var elapsed = sw.Elapsed;
                process.Refresh();
                var cpuMs = (process.TotalProcessorTime - cpu0).TotalMilliseconds / repeat;
                var mbps = Measure.MBps(bytes * repeat, elapsed);
                var allocated = (GC.GetTotalAllocatedBytes(precise: false) - allocAll) / repeat;
                rates[v].Add(mbps);
                cpus[v].Add(cpuMs);
                Console.WriteLine($"{name,-24} {mbps,8:0} MB/s  {cpuMs,7:0.0} ms CPU  {allocated / 1024.0,9:0} KiB alloc  {GC.CollectionCount(0) - gcs,3} gen0");
            }
        }
        Console.WriteLine();
        Console.WriteLine("median:");
        for (var v = 0; v < variants.Length; v++)
        {
            var s = rates[v].Order().ToArray();
            var c = cpus[v].Order().ToArray();
            Console.WriteLine($"{variants[v].Name,-24} {s[s.Length / 2],8:0} MB/s  {c[c.Length / 2],7:0.0} ms CPU");
        }
        return 0;
    }
}
