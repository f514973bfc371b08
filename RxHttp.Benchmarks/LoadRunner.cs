using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace RxHttp.Benchmarks;

/// <summary>Settings of the side-by-side run (see <see cref="Parse"/> for the command line).</summary>
internal sealed record LoadOptions
{
    public bool Quick { get; init; }
    public string Server { get; init; } = "kestrel";
    // Six: an even number, since ratios are taken over pairs of rounds (see Stats.PairedRatio), and as many as fit
    // with #8's rows in the six minutes a full run may take (ten rounds of the original rows alone took four).
    public int Rounds { get; init; } = 6;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(1.5);
    public long TransferSize { get; init; } = 256L << 20;
    public int AllocRequests { get; init; } = 5000;
    public int Concurrency { get; init; } = 64;
    public HashSet<int> Only { get; init; } = [1, 2, 8, 3, 7, 4, 5, 6];
    /// <summary>The newer rows, by group: 2r, shapes, 3r, switch (row 7), tls (nginx only), ws (row 8, websockets at scale).</summary>
    public HashSet<string> Groups { get; init; } = [.. ContestPlan.AllGroups, "ws"];
    public int WsCount { get; init; } = 10000;
    public bool NoFloor { get; init; }
    /// <summary>A blocking full collection before every side's turn (see <see cref="Measure.BetweenSides"/>).</summary>
    public bool GcBetween { get; init; }
    /// <summary>Transfers per side per round on rows 3, 3b and 4, in alternating orders (even).</summary>
    public int TransferRepeats { get; init; } = 4;

    public static LoadOptions Parse(string[] args)
    {
        var o = new LoadOptions();
        if (args.Contains("--quick"))
            o = o with { Quick = true, Rounds = 4, Duration = TimeSpan.FromSeconds(0.5), AllocRequests = 1000, WsCount = 1000 };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick": break;
                case "--no-floor": o = o with { NoFloor = true }; break;
                case "--gc-between": o = o with { GcBetween = true }; break;
                case "--verbose": Stats.Verbose = true; break;
                case "--transfers": o = o with { TransferRepeats = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--server": o = o with { Server = Next().ToLowerInvariant() }; break;
                case "--rounds": o = o with { Rounds = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--duration": o = o with { Duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) }; break;
                case "--size-mib": o = o with { TransferSize = long.Parse(Next(), CultureInfo.InvariantCulture) << 20 }; break;
                case "--only":
                    var only = Next().Split(',');
                    o = o with
                    {
                        Only = only.Where(s => int.TryParse(s, CultureInfo.InvariantCulture, out _)).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToHashSet(),
                        Groups = only.Where(s => !int.TryParse(s, CultureInfo.InvariantCulture, out _)).ToHashSet(),
                    };
                    break;
                case "--ws-count": o = o with { WsCount = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                default: throw new ArgumentException($"Unknown option {args[i]}. " + Usage);
            }
        }
        if (o.Server is not ("kestrel" or "nginx")) throw new ArgumentException("--server is kestrel or nginx");
        if (o.TransferRepeats < 2 || o.TransferRepeats % 2 != 0) throw new ArgumentException("--transfers must be even (each side goes first equally often), at least 2");
        if (o.Rounds < 2 || o.Rounds % 2 != 0) throw new ArgumentException("--rounds must be even (each client goes first equally often), at least 2");
        return o;
    }

    public const string Usage = "Options: [--quick] [--server kestrel|nginx] [--rounds N] [--duration SECONDS] [--size-mib N] [--only 1,2,8,3,7,4,5,6,2r,shapes,3r,switch,tls,ws] [--ws-count N] [--no-floor] [--gc-between] [--transfers N] [--verbose]; or 'micro' [BenchmarkDotNet args]; 'cpu' [--both] [--raw] [--concurrent] [--nginx] [--seconds N]; 'allocs'; 'download'; 'latency' [--nginx] [--raw] [--raw-full]; 'upload' [--pairs N] [--size-mib N] [--fresh] [--idle-seconds N]; 'cold' [--rounds N].";
}

/// <summary>
/// Runs RxHttp and HttpClient alternately (the side that goes first swaps every round, so drift and warm caches
/// hurt both equally), takes the median of each workload's per-round ratios and prints one table against the issue's bars.
/// </summary>
internal sealed class LoadRunner(LoadOptions options)
{
    private sealed class Row(int id, string name, string unit, bool higherIsBetter, double bar, double? floorBar = null)
    {
        /// <summary>#8's bar against the raw floor; when set (and a floor was measured), the HttpClient ratio is for reference.</summary>
        public double? FloorBar { get; } = floorBar;
        public string Label => Name.Split(' ')[0];
        public int Id { get; } = id;
        public string Name { get; } = name;
        public string Unit { get; } = unit;
        public bool HigherIsBetter { get; } = higherIsBetter;
        public double Bar { get; } = bar;
        public List<double> Rx { get; } = [];
        public List<double> Hc { get; } = [];
        public List<double> Curl { get; } = [];
        public List<double> Floor { get; } = [];
        /// <summary>Row 3b: the raw floor reading into a fresh 64 KiB array per read, the least `Content` can do.</summary>
        public List<double> FreshFloor { get; } = [];
        public bool RxPending { get; set; }
        public string? Note { get; set; }
    }

    public async Task<int> RunAsync()
    {
        var o = options;
        Console.WriteLine($"# RxHttp vs HttpClient: {(o.Quick ? "quick" : "full")} run, {o.Rounds} alternating rounds, {o.Duration.TotalSeconds:0.##} s per timed side, {o.TransferSize >> 20} MiB transfers");
        Console.WriteLine(MachineDescription());
        var total = Stopwatch.StartNew();
        Measure.CollectBetweenSides = o.GcBetween;

        await using var kestrel = await KestrelBenchServer.StartAsync(o.TransferSize);
        await using var nginx = o.Server == "nginx" ? await NginxBenchServer.StartAsync(o.TransferSize) : null;
        IBenchServer server = nginx is not null ? nginx : kestrel;
        Console.WriteLine($"server: {server.Name} at {server.HttpBase}" + (nginx is not null ? $"; upload and websocket: {kestrel.Name} at {kestrel.HttpBase} (nginx cannot sink a body or echo a websocket by itself)" : ""));

        await using IClientSide rx = new RxHttpSide(server.HttpBase, kestrel.HttpBase, o.Concurrency, kestrel.WsUrl);
        await using IClientSide hc = new HttpClientSide(server.HttpBase, kestrel.HttpBase, kestrel.WsUrl, o.Concurrency);
        using var raw = new RawBaseline(server.HttpBase);
        await using var floor = o.NoFloor ? null : new RawSide(server.HttpBase, server.HttpBase, o.Concurrency);
        // Row 2i: the same workload with the opt-in inline completions, measured in row 2's slices.
        await using var rxInline = o.Only.Contains(8) ? new RxHttpSide(server.HttpBase, kestrel.HttpBase, o.Concurrency, inlineCompletions: true) : null;
        await using var plan = ContestPlan.Create(o, server, kestrel, nginx);
        await using var rawUpload = o.NoFloor || !o.Only.Contains(4) ? null : new RawStreamClient(kestrel.HttpBase);
        string? uploadFile = null;
        if (Curl.Available && o.Only.Contains(4))
        {
            uploadFile = Path.Combine(Path.GetTempPath(), $"rxhttp-bench-upload-{Environment.ProcessId}.bin");
            await using (var f = File.Create(uploadFile)) f.SetLength(o.TransferSize);
        }

        var mib = o.TransferSize >> 20;
        var rows = new[]
        {
            new Row(1, "1 sequential GET, 13 B body, 1 keep-alive connection", "req/s", true, 1.1),
            new Row(2, $"2 {o.Concurrency} concurrent GETs, pool of {o.Concurrency}", "req/s", true, 1.1, floorBar: 0.9),
            new Row(8, "2i same, RxHttp with `UnsafeInlineCompletions` (opt-in; HttpClient as in row 2)", "req/s", true, 1.1),
            new Row(3, $"3 download {mib} MiB via the chunk observable (`BorrowedContent`, 256 KiB chunks; HttpClient: one reused 256 KiB buffer)", "MB/s", true, 1.0, floorBar: 0.95),
            new Row(7, $"3b download {mib} MiB via `Content`, a fresh array per chunk (HttpClient: a fresh array per read)", "MB/s", true, 1.0, floorBar: 0.95),
            new Row(4, $"4 upload {mib} MiB streamed body" + (nginx is not null ? " [Kestrel]" : ""), "MB/s", true, 1.0, floorBar: 0.95),
            new Row(5, "5 allocated bytes per request (workload 1)", "B/req", false, 0.8),
            new Row(6, "6 websocket echo, 64 B messages" + (nginx is not null ? " [Kestrel]" : ""), "msg/s", true, 1.1),
        }.Where(r => o.Only.Contains(r.Id)).ToArray();

        try
        {
            Console.Write("warm-up ...");
            await WarmUpAsync(rx, hc, raw);
            if (floor is not null) await WarmUpFloorAsync(floor);
            if (rxInline is not null) await rxInline.ConcurrentAsync(WarmUpTime / 2, o.Concurrency);
            if (rawUpload is not null) await rawUpload.UploadAsync(o.TransferSize);
            foreach (var contest in plan.Contests) await contest.WarmUpAsync();
            Console.WriteLine(" done");
            for (var round = 1; round <= o.Rounds; round++)
            {
                var sides = round % 2 == 1 ? new[] { rx, hc } : new[] { hc, rx };
                var baseline = o.Only.Contains(5) ? await Measure.AllocatedPerCallAsync(o.AllocRequests, raw.GetAsync) : 0;
                foreach (var row in rows)
                {
                    if (row.Id == 8 && o.Only.Contains(2)) continue; // measured with row 2
                    if (row.Id is 1 or 2 or 8)
                    {
                        // Rate rows interleave short slices: this machine's speed drifts by tens of percent within
                        // seconds, and fine interleaving lets both sides (and the floor) see the same drift.
                        var alone = row.Id == 8; // row 2i without row 2
                        var (rxRate, hcRate, floorRate, inlineRate) = await InterleavedAsync(row.Id == 1 ? 1 : 2,
                            alone ? null : rx, hc, alone ? null : floor, row.Id == 1 ? null : rxInline, round);
                        if (!alone)
                        {
                            row.Rx.Add(rxRate!.Value);
                            row.Hc.Add(hcRate);
                            if (floorRate is { } fr) row.Floor.Add(fr);
                        }
                        if (inlineRate is { } ir && rows.FirstOrDefault(r => r.Id == 8) is { } inlineRow)
                        {
                            inlineRow.Rx.Add(ir);
                            inlineRow.Hc.Add(hcRate);
                        }
                        continue;
                    }
                    if (row.Id is 3 or 7 or 4)
                    {
                        // Every side of a transfer row, the raw floors and curl included, in the same rotation.
                        var big = server.HttpBase + "big";
                        var transfers = new List<(List<double> Into, Func<Task<double>> Run)>
                        {
                            (row.Rx, () => Transfer(row.Id, rx)),
                            (row.Hc, () => Transfer(row.Id, hc)),
                        };
                        if (floor is not null && row.Id is 3 or 7) transfers.Add((row.Floor, () => floor.DownloadAsync(o.TransferSize, ownedChunks: false)));
                        if (floor is not null && row.Id == 7) transfers.Add((row.FreshFloor, () => floor.DownloadAsync(o.TransferSize, ownedChunks: true)));
                        if (rawUpload is not null && row.Id == 4) transfers.Add((row.Floor, () => rawUpload.UploadAsync(o.TransferSize)));
                        if (row.Id == 3 && Curl.Available) transfers.Add((row.Curl, () => Curl.DownloadAsync(big)));
                        if (row.Id == 4 && uploadFile is not null) transfers.Add((row.Curl, () => Curl.UploadAsync(kestrel.HttpBase + "upload", uploadFile)));
                        var means = await TransfersAsync(transfers.Select(t => t.Run).ToArray(), round);
                        for (var k = 0; k < transfers.Count; k++) transfers[k].Into.Add(means[k]);
                    }
                    else
                    {
                        foreach (var side in sides)
                        {
                            var value = row.Id == 5
                                ? Math.Max(0, await side.AllocationsAsync(o.AllocRequests) - baseline)
                                : await side.WebSocketEchoAsync(o.Duration);
                            if (value is null)
                            {
                                row.RxPending = true;
                                continue;
                            }
                            (side == rx ? row.Rx : row.Hc).Add(value.Value);
                        }
                    }
                    if (row.Id == 5) row.Note = $"in-process server share of {baseline:0} B/req (measured with a zero-allocation raw socket client) subtracted";
                }
                foreach (var contest in plan.Contests) await contest.RunRoundAsync(round);
                Console.WriteLine($"round {round}/{o.Rounds} ({total.Elapsed.TotalSeconds:0} s): " + string.Join("; ", rows.Select(r =>
                    $"{r.Id}: {(r.Rx.Count == round ? Fmt(r.Rx[^1]) : "n/a")} vs {(r.Hc.Count == round ? Fmt(r.Hc[^1]) : "n/a")}")
                    .Concat(plan.Contests.Select(c => c.RoundSummary()))));
            }
        }
        finally
        {
            if (uploadFile is not null) File.Delete(uploadFile);
        }

        WsScale.Result? wsScale = null;
        if (o.Groups.Contains("ws")) wsScale = await WsScale.RunAsync(o.WsCount, o.Quick);

        Console.WriteLine();
        var allMet = PrintTable(rows, server, nginx is not null);
        foreach (var contest in plan.Contests) allMet &= contest.Print();
        if (wsScale is not null) allMet &= wsScale.Print();
        if (floor is not null)
            Console.WriteLine("(″ rows: a raw socket client with a fixed request and no HTTP parsing, pool, timeouts or API, " +
                              "measured in the same rounds: the most any client on .NET sockets could reach here; the floors that \"allocate each body\" " +
                              "or \"decode each body\" do the API's own unavoidable work and nothing else.)");
        Console.WriteLine();
        Console.WriteLine($"total time {total.Elapsed.TotalSeconds:0.0} s; bars {(allMet ? "all met" : "NOT all met")}");
        return 0;
    }

    private const int Slices = 8;

    /// <summary>One round of a rate row: <see cref="Slices"/> slices per side, alternating the order; mean rates (null: side not given).</summary>
    private async Task<(double? Rx, double Hc, double? Floor, double? Extra)> InterleavedAsync(int row, IClientSide? rx, IClientSide hc, IClientSide? floor, IClientSide? extra, int round)
    {
        var slice = options.Duration / Slices;
        var sides = new[] { rx, hc, floor, extra }.OfType<IClientSide>().ToArray();
        var means = await Measure.AlternatingAsync(sides.Length, Slices, round, j =>
            row == 1 ? sides[j].SequentialAsync(slice) : sides[j].ConcurrentAsync(slice, options.Concurrency));
        double? Mean(IClientSide? side) => side is null ? null : means[Array.IndexOf(sides, side)];
        return (Mean(rx), Mean(hc)!.Value, Mean(floor), Mean(extra));
    }

    // Transfers per side per round: four by default, the order reversed after each (A B C, C B A, A B C, C B A), so
    // each round is order-balanced by itself for every pair of sides, the raw floors and curl included. Single
    // transfers swung by ±30% between rounds on this machine, and going second was worth about 10%.
    /// <summary>One round of a transfer row: <see cref="LoadOptions.TransferRepeats"/> transfers per side, the order reversed each time; mean MB/s per side.</summary>
    private Task<double[]> TransfersAsync(Func<Task<double>>[] sides, int round) =>
        Measure.AlternatingAsync(sides.Length, options.TransferRepeats, round, j => sides[j]());

    private Task<double> Transfer(int row, IClientSide side) => row switch
    {
        3 => side.DownloadAsync(options.TransferSize, ownedChunks: false),
        7 => side.DownloadAsync(options.TransferSize, ownedChunks: true),
        _ => side.UploadAsync(options.TransferSize),
    };

    private async Task WarmUpAsync(IClientSide rx, IClientSide hc, RawBaseline raw)
    {
        // Tiered JIT needs a few thousand calls before the hot path is optimised; give both sides the same.
        var warm = WarmUpTime;
        foreach (var side in new[] { rx, hc })
        {
            if (options.Only.Contains(1) || options.Only.Contains(5)) await side.SequentialAsync(warm);
            if (options.Only.Contains(2)) await side.ConcurrentAsync(warm / 2, options.Concurrency);
            if (options.Only.Contains(3) || options.Only.Contains(7)) await side.DownloadAsync(options.TransferSize, ownedChunks: options.Only.Contains(7));
            if (options.Only.Contains(4)) await side.UploadAsync(options.TransferSize);
            if (options.Only.Contains(6)) await side.WebSocketEchoAsync(warm / 3);
        }
        for (var i = 0; i < 2000; i++) await raw.GetAsync();
    }

    private TimeSpan WarmUpTime => TimeSpan.FromSeconds(options.Quick ? 0.5 : 1.5);

    private async Task WarmUpFloorAsync(RawSide floor)
    {
        var warm = WarmUpTime;
        if (options.Only.Contains(1)) await floor.SequentialAsync(warm);
        if (options.Only.Contains(2)) await floor.ConcurrentAsync(warm / 2, options.Concurrency);
        if (options.Only.Contains(3) || options.Only.Contains(7)) await floor.DownloadAsync(options.TransferSize, ownedChunks: false);
        if (options.Only.Contains(7)) await floor.DownloadAsync(options.TransferSize, ownedChunks: true);
    }

    private static bool PrintTable(Row[] rows, IBenchServer server, bool nginx)
    {
        Console.WriteLine($"| workload ({server.Name}) | unit | RxHttp | peer | ratio RxHttp/peer (middle half of round pairs) | bar | met |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | --- | --- |");
        var allMet = true;
        foreach (var r in rows)
        {
            var op = r.HigherIsBetter ? "≥" : "≤";
            if (r.RxPending)
            {
                Console.WriteLine($"| {r.Name} (RxHttp websocket: pending, not merged yet) | {r.Unit} | n/a | {Fmt(Stats.Median(r.Hc))} | n/a | {op} {r.Bar:0.0#} | pending |");
                allMet = false;
                continue;
            }
            var rx = Stats.Median(r.Rx);
            var hc = Stats.Median(r.Hc);
            var ratio = Stats.PairedRatio(r.Rx, r.Hc);
            var met = r.HigherIsBetter ? ratio >= r.Bar : ratio <= r.Bar;
            // Rows judged against the raw floor (#8) show their HttpClient ratio for reference only.
            var judged = r.FloorBar is null || r.Floor.Count == 0;
            if (judged) allMet &= met;
            Console.WriteLine($"| {r.Name} | {r.Unit} | {Fmt(rx)} | HttpClient {Fmt(hc)} | {ratio:0.00} {Stats.Spread(r.Rx, r.Hc)} | " +
                              (judged ? $"{op} {r.Bar:0.0#} | {(met ? "yes" : "no")} |" : "(reference) | |"));
            if (r.Curl.Count > 0)
            {
                var curl = Stats.Median(r.Curl);
                var vsCurl = Stats.PairedRatio(r.Rx, r.Curl);
                // #8: curl is judged against nginx only.
                var curlJudged = nginx && r.Id == 3;
                var curlMet = vsCurl >= 0.9;
                if (curlJudged) allMet &= curlMet;
                Console.WriteLine($"| {r.Label}′ same transfer with curl | {r.Unit} | {Fmt(rx)} | curl {Fmt(curl)} | {vsCurl:0.00} {Stats.Spread(r.Rx, r.Curl)} | " +
                                  (curlJudged ? $"≥ 0.90 | {(curlMet ? "yes" : "no")} |" : "(reference) | |"));
            }
            if (r.Floor.Count > 0)
            {
                var f = Stats.Median(r.Floor);
                var vsFloor = Stats.PairedRatio(r.Rx, r.Floor);
                var floorMet = r.FloorBar is not { } fb || vsFloor >= fb;
                allMet &= floorMet;
                Console.WriteLine($"| {r.Label}″ raw-socket floor, same rounds (raw/HttpClient {Stats.PairedRatio(r.Floor, r.Hc):0.00}) | {r.Unit} | {Fmt(rx)} | raw {Fmt(f)} | {vsFloor:0.00} {Stats.Spread(r.Rx, r.Floor)} | " +
                                  (r.FloorBar is { } bar ? $"≥ {bar:0.0#} | {(floorMet ? "yes" : "no")} |" : " | |"));
            }
            if (r.FreshFloor.Count > 0)
            {
                var vsFresh = Stats.PairedRatio(r.Rx, r.FreshFloor);
                var freshMet = vsFresh >= 0.95;
                allMet &= freshMet;
                Console.WriteLine($"| {r.Label}″ same, vs the raw floor reading into a fresh 64 KiB array per read (the least an API handing out chunks to keep can do; raw/HttpClient {Stats.PairedRatio(r.FreshFloor, r.Hc):0.00}) | {r.Unit} | {Fmt(rx)} | raw, fresh arrays {Fmt(Stats.Median(r.FreshFloor))} | " +
                                  $"{vsFresh:0.00} {Stats.Spread(r.Rx, r.FreshFloor)} | ≥ 0.95 | {(freshMet ? "yes" : "no")} |");
            }
            if (r.Note is not null) Console.WriteLine($"|   ({r.Note}) | | | | | | |");
        }
        return allMet;
    }

    private static string Fmt(double v) => double.IsNaN(v) ? "n/a" : v >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.0", CultureInfo.InvariantCulture);

    private static string MachineDescription()
    {
        var cpu = "";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
        }
        catch (IOException) { }
        return $"machine: {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores {cpu}, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, " +
#if DEBUG
               "DEBUG build (use -c Release for real figures)";
#else
               "Release build";
#endif
    }
}
