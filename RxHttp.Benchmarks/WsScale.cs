using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Reactive.Linq;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RxHttp.Benchmarks;

/// <summary>
/// Row 8: thousands of open websockets, each echoed once and then kept listening (RxHttp: <c>Messages</c>
/// subscribed; ClientWebSocket: a pending <c>ReceiveAsync</c> into a 4 KiB buffer, as Microsoft's samples write
/// it), against a Kestrel echo server in a process of its own, so only the clients' memory is counted. Measures
/// the managed heap per open websocket and the connect rate (64 handshakes in flight).
/// </summary>
internal static class WsScale
{
    private const int ConnectConcurrency = 64;
    private const int ReceiveBuffer = 4 * 1024;

    internal sealed class Result(int count)
    {
        public List<double> RxHeap { get; } = [];
        public List<double> HcHeap { get; } = [];
        public List<double> RxRate { get; } = [];
        public List<double> HcRate { get; } = [];
        public List<double> RxCpu { get; } = [];
        public List<double> HcCpu { get; } = [];

        public bool Print()
        {
            var allMet = true;
            void Row(string label, string unit, List<double> rx, List<double> hc, double? bar, bool higher)
            {
                // Each pair's two runs were made back to back (their order alternating): one ratio per pair, then the median.
                var ratio = Stats.Median(rx.Zip(hc, (a, b) => a / b).ToList());
                var met = bar is not { } b || (higher ? ratio >= b : ratio <= b);
                allMet &= met;
                var barText = bar is { } v ? $"{(higher ? "≥" : "≤")} {v:0.0#}" : "(reference)";
                Console.WriteLine($"| {label} | {unit} | {Contest.Fmt(Stats.Median(rx))} | ClientWebSocket {Contest.Fmt(Stats.Median(hc))} | {ratio:0.00} | {barText} | {(bar is null ? "" : met ? "yes" : "no")} |");
            }
            Row($"8 {count:N0} open websockets, each echoed once and listening (`Messages` subscribed), server in its own process: managed heap per websocket", "KB", RxHeap, HcHeap, 1.0, false);
            Row($"8 same: connect rate ({ConnectConcurrency} handshakes in flight)", "conn/s", RxRate, HcRate, 1.0, true);
            // The client's own cost of a connect, which the server process and the machine's state disturb less than the rate.
            Row("8 same: this process's CPU per connect", "µs", RxCpu, HcCpu, null, false);
            return allMet;
        }
    }

    /// <summary>Four pairs (RxHttp first, then ClientWebSocket first, in turn), after two full-size warm-ups of each.</summary>
    public static async Task<Result> RunAsync(int count, bool quick)
    {
        RaiseFileLimit();
        using var server = await EchoServerProcess.StartAsync();
        var result = new Result(count);
        var url = $"ws://127.0.0.1:{server.Port}/ws";
        // Warm-up at full scale, both sides: the first thousands of connections also grow the server process's heap,
        // thread pool and accept queue (and this process's), which cost whichever side was measured first 15-20% of
        // its rate; a JIT-only warm-up of 200 left that to the first measured side. Twice each: in rounds of 5,000
        // connects (the `wsconnect` mode) both sides' rates still climbed until about the fourth round, from about
        // 2,600 to 5,000-6,000 conn/s, as tiered compilation reached the connect path (this process's and the
        // server's); after one round of 10,000 each, the first measured pair was still climbing.
        for (var warm = 0; warm < (quick ? 1 : 2); warm++)
        {
            await RxAsync(url, count);
            await SettleAsync();
            await HcAsync(url, count);
            await SettleAsync();
        }
        // Four pairs, two with each side first: which side goes first (and what the previous side left to the server
        // to tear down) moved a single pair's ratio by 15-20% either way.
        for (var pair = 0; pair < (quick ? 1 : 4); pair++)
        {
            foreach (var rx in pair % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var (heap, rate, cpu, allocated) = rx ? await RxAsync(url, count) : await HcAsync(url, count);
                await SettleAsync();
                (rx ? result.RxHeap : result.HcHeap).Add(heap);
                (rx ? result.RxRate : result.HcRate).Add(rate);
                (rx ? result.RxCpu : result.HcCpu).Add(cpu);
                Console.WriteLine($"websockets at scale: {(rx ? "RxHttp" : "ClientWebSocket")} {count:N0} open: {heap:0.0} KB managed heap each, {rate:N0} connections/s, {cpu:0} µs of this process's CPU and {allocated:N0} B allocated per connect");
            }
        }
        return result;
    }

    /// <summary>
    /// "wsconnect" mode: one side's 8 row alone, <c>--rounds N</c> times (default 5) after one warm-up, to run under
    /// <c>perf</c>: <c>wsconnect [--cws] [--count N] [--rounds N]</c>.
    /// </summary>
    public static async Task<int> ProbeAsync(string[] args)
    {
        RaiseFileLimit();
        using var server = await EchoServerProcess.StartAsync();
        var url = $"ws://127.0.0.1:{server.Port}/ws";
        var count = ModeArgs.Int(args, "--count", 10000);
        var cws = args.Contains("--cws");
        var rounds = ModeArgs.Int(args, "--rounds", 5);
        for (var round = 0; round <= rounds; round++)
        {
            var (heap, rate, cpu, allocated) = cws ? await HcAsync(url, count) : await RxAsync(url, count);
            await SettleAsync();
            Console.WriteLine($"{(round == 0 ? "warm-up " : "")}{(cws ? "ClientWebSocket" : "RxHttp")}: {heap:0.0} KB heap each, {rate:N0} conn/s, {cpu:0} µs CPU and {allocated:N0} B per connect");
        }
        return 0;
    }

    // A side's teardown may go on after it returned (aborted sockets complete their pending reads with exceptions on
    // the thread pool): the next side must not be measured while it runs. Waits until the thread pool has been idle
    // for a while, the same for both sides.
    private static async Task SettleAsync()
    {
        var sw = Stopwatch.StartNew();
        var quiet = 0;
        while (quiet < 5 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            var before = ThreadPool.CompletedWorkItemCount;
            await Task.Delay(20).ConfigureAwait(false);
            quiet = ThreadPool.CompletedWorkItemCount - before < 10 && ThreadPool.PendingWorkItemCount == 0 ? quiet + 1 : 0;
        }
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<(double HeapKb, double Rate, double CpuUs, long BytesPerConnect)> RxAsync(string url, int count)
    {
        await using var session = new ClientSession(new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Limit = 0 }) });
        var target = Url.Parse(url);
        var sockets = new RxHttp.ClientWebSocket[count];
        var subscriptions = new IDisposable[count];
        var echoed = 0;
        var allEchoed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var before = Heap();
        var sw = Stopwatch.StartNew();
        var c0 = Process.GetCurrentProcess().TotalProcessorTime;
        var a0 = GC.GetTotalAllocatedBytes(precise: true);
        await ForEachAsync(count, async i =>
        {
            var ws = await session.WsConnectAsync(target).ConfigureAwait(false);
            sockets[i] = ws;
            subscriptions[i] = ws.Messages.Subscribe(_ =>
            {
                if (Interlocked.Increment(ref echoed) == count) allEchoed.TrySetResult();
            });
            await ws.SendBytes(Measure.UploadBlock.AsMemory(0, 64));
        }).ConfigureAwait(false);
        var rate = count / sw.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalMicroseconds / count;
        var allocated = (GC.GetTotalAllocatedBytes(precise: true) - a0) / count;
        await allEchoed.Task.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        var heap = (Heap() - before) / 1024.0 / count;
        foreach (var s in subscriptions) s.Dispose();
        foreach (var ws in sockets) ws.Abort();
        GC.KeepAlive(sockets);
        return (heap, rate, cpu, allocated);
    }

    private static async Task<(double HeapKb, double Rate, double CpuUs, long BytesPerConnect)> HcAsync(string url, int count)
    {
        var target = new Uri(url);
        var sockets = new System.Net.WebSockets.ClientWebSocket[count];
        var listeners = new Task[count];
        var echoed = 0;
        var allEchoed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var before = Heap();
        var sw = Stopwatch.StartNew();
        var c0 = Process.GetCurrentProcess().TotalProcessorTime;
        var a0 = GC.GetTotalAllocatedBytes(precise: true);
        await ForEachAsync(count, async i =>
        {
            var ws = new System.Net.WebSockets.ClientWebSocket();
            await ws.ConnectAsync(target, CancellationToken.None).ConfigureAwait(false);
            sockets[i] = ws;
            listeners[i] = ListenAsync(ws);
            await ws.SendAsync(Measure.UploadBlock.AsMemory(0, 64), WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
        }).ConfigureAwait(false);
        var rate = count / sw.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalMicroseconds / count;
        var allocated = (GC.GetTotalAllocatedBytes(precise: true) - a0) / count;
        await allEchoed.Task.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        var heap = (Heap() - before) / 1024.0 / count;
        foreach (var ws in sockets) ws.Abort();
        foreach (var ws in sockets) ws.Dispose();
        try { await Task.WhenAll(listeners).ConfigureAwait(false); } catch (Exception) { /* aborted */ }
        return (heap, rate, cpu, allocated);

        async Task ListenAsync(System.Net.WebSockets.ClientWebSocket ws)
        {
            var buffer = new byte[ReceiveBuffer];
            try
            {
                while (true)
                {
                    var r = await ws.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                    if (r.MessageType == WebSocketMessageType.Close) return;
                    if (r.EndOfMessage && Interlocked.Increment(ref echoed) == count) allEchoed.TrySetResult();
                }
            }
            catch (Exception) when (ws.State == WebSocketState.Aborted)
            {
            }
        }
    }

    private static async Task ForEachAsync(int count, Func<int, Task> body)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, ConnectConcurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count) await body(i).ConfigureAwait(false);
        }))).ConfigureAwait(false);
    }

    // ---- open-file limit: thousands of sockets need more than the usual soft limit of 1024 ----

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrlimit(int resource, out RLimit limit);

    [DllImport("libc", SetLastError = true)]
    private static extern int setrlimit(int resource, ref RLimit limit);

    /// <summary>Raises this process's soft limit of open files to its hard limit (Linux).</summary>
    public static void RaiseFileLimit()
    {
        if (!OperatingSystem.IsLinux()) return;
        const int RLIMIT_NOFILE = 7;
        if (getrlimit(RLIMIT_NOFILE, out var limit) != 0 || limit.Current >= limit.Max) return;
        limit.Current = limit.Max;
        setrlimit(RLIMIT_NOFILE, ref limit);
    }

    /// <summary>This benchmark's own executable in "ws-server" mode: a Kestrel echo server in a separate process.</summary>
    private sealed class EchoServerProcess : IDisposable
    {
        private readonly Process _process;
        public int Port { get; }

        private EchoServerProcess(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public static async Task<EchoServerProcess> StartAsync()
        {
            var self = Environment.ProcessPath!;
            var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(WsScale).Assembly.Location);
            psi.ArgumentList.Add("ws-server");
            var p = Process.Start(psi) ?? throw new InvalidOperationException("Cannot start the websocket server process.");
            var line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            if (line is null || !line.StartsWith("port ", StringComparison.Ordinal)) throw new InvalidOperationException("websocket server said: " + line);
            return new EchoServerProcess(p, int.Parse(line[5..], System.Globalization.CultureInfo.InvariantCulture));
        }

        public void Dispose()
        {
            // Closing its stdin stops the server; killed by its own pid if it does not stop.
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000)) _process.Kill();
            _process.Dispose();
        }
    }

    /// <summary>"ws-server" mode: a websocket echo server on a free port; prints "port N"; stops when stdin closes.</summary>
    public static async Task<int> ServeAsync()
    {
        RaiseFileLimit();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxConcurrentConnections = null;
            k.Limits.MaxConcurrentUpgradedConnections = null;
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(async ctx =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest)
            {
                ctx.Response.StatusCode = 404;
                return;
            }
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            await KestrelBenchServer.EchoAsync(ws, 1024);
        });
        await app.StartAsync();
        Console.WriteLine("port " + new Uri(app.Urls.First()).Port);
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }
}
