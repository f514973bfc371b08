namespace RxHttp.Benchmarks;

/// <summary>
/// The rows of issue #8 beyond the original table: the Rx shapes (2r, other shapes, 7), buffered 1 MiB bodies
/// (3r) and, against nginx, the same over TLS (1t, 2t, 3t and a full handshake per request).
/// </summary>
internal sealed class ContestPlan : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    public List<Contest> Contests { get; } = [];

    /// <summary>Groups for --only: 2r, shapes, 3r, switch (row 7), tls (1t, 2t, 3t, handshake).</summary>
    public static readonly string[] AllGroups = ["2r", "shapes", "3r", "switch", "tls"];

    public static ContestPlan Create(LoadOptions o, IBenchServer server, KestrelBenchServer kestrel, NginxBenchServer? nginx)
    {
        var plan = new ContestPlan();
        var perRound = o.Quick ? TimeSpan.FromSeconds(0.25) : TimeSpan.FromSeconds(0.6);
        var slices = o.Quick ? 1 : 2;
        var c = plan.Own(new ShapeClients(server.HttpBase));
        if (o.Groups.Contains("2r")) plan.Contests.Add(Concurrent("2r", c, perRound, slices, "", json: true, plan.Own(new RawMergeShape(server.HttpBase))));
        if (o.Groups.Contains("shapes")) plan.Contests.Add(OtherShapes(c, perRound, slices));
        if (o.Groups.Contains("3r")) plan.Contests.Add(Buffered("3r", c, plan.Own(new RawStreamClient(server.HttpBase)), chunked: true, o.Quick));
        if (o.Groups.Contains("switch")) plan.Contests.Add(SearchAsYouType(plan.Own(new ShapeClients(kestrel.HttpBase)), kestrel, o.Quick ? 300 : 1000, slices));
        if (o.Groups.Contains("tls") && nginx is not null)
        {
            var t = plan.Own(new ShapeClients(nginx.TlsBase, tls: true));
            var rx1 = new Measurement("RxHttp", t.RxSequentialAsync);
            var hc1 = new Measurement("HttpClient", t.HcSequentialAsync);
            plan.Contests.Add(new Contest("1t", [rx1, hc1],
                [new("1t sequential GET over TLS 1.3, 1 keep-alive connection", "req/s", rx1, hc1, 1.1)],
                perRound, slices * 2));
            plan.Contests.Add(Concurrent("2t", t, perRound, slices, " over TLS", json: false));
            plan.Contests.Add(Buffered("3t", t, plan.Own(new RawStreamClient(nginx.TlsBase)), chunked: false, o.Quick));
            var fresh = plan.Own(new ShapeClients(nginx.TlsBase, tls: true, fresh: true));
            var rx = new Measurement("RxHttp", fresh.RxSequentialAsync);
            var hc = new Measurement("HttpClient", fresh.HcSequentialAsync);
            plan.Contests.Add(new Contest("hs", [rx, hc],
                [new("1h sequential GET over TLS 1.3 with a full handshake per request (no resumption)", "req/s", rx, hc, 1.0)],
                perRound, slices));
        }
        return plan;
    }

    private T Own<T>(T disposable) where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    private static Contest Concurrent(string id, ShapeClients c, TimeSpan perRound, int slices, string suffix, bool json, RawMergeShape? raw = null)
    {
        const string shape = "`Range(...).Select(_ => Get(u).SelectMany(r => r.Read())).Merge(64)`";
        var rxRead = Measurement.Counted("RxHttp", n => c.RxMergeAsync(n, ShapeClients.Body.Read));
        var rxWorkers = new Measurement("RxHttp 64 async workers (row 2)", s => c.RxWorkersAsync(s, ShapeClients.Body.Read));
        var hcWorkers = new Measurement("HttpClient 64 Task workers", s => c.HcWorkersAsync(s, ShapeClients.Body.Read));
        var hcMerge = Measurement.Counted("HttpClient Merge(64) of FromAsync", n => c.HcMergeAsync(n, ShapeClients.Body.Read));
        var ms = new List<Measurement> { rxRead, rxWorkers, hcWorkers, hcMerge };
        var rows = new List<Comparison>
        {
            new($"{id} 64 concurrent GETs{suffix}, {shape}, vs HttpClient's `Task` workers (`GetByteArrayAsync`)", "req/s", rxRead, hcWorkers, 1.0),
            new($"{id} same, vs HttpClient in the same `Merge(64)` over `Observable.FromAsync`", "req/s", rxRead, hcMerge, 1.1),
            new($"{id} same, vs RxHttp's own row 2 (64 `async` workers)", "req/s", rxRead, rxWorkers, 0.95),
        };
        if (raw is not null)
        {
            // Row 2's floor in 2r's shape: the most any client could reach in Merge(64) here, with row 2's bar.
            var floor = Measurement.Counted("raw, same Merge(64)", n => raw.MergeAsync(n, queued: true));
            ms.Add(floor);
            rows.Add(new($"{id}″ same, vs the raw-socket floor in the same `Merge(64)` (each request the least observable over row 2″'s client, started on the thread pool)",
                "req/s", rxRead, floor, 0.9, Reference: hcWorkers));
        }
        if (json)
        {
            // Row 5 for the Merge shape: what the process allocates per request (nginx: the client's own).
            var rxBytes = new Measurement("RxHttp", _ => ShapeClients.AllocatedPerRequestAsync(n => c.RxMergeAsync(n, ShapeClients.Body.Read), 2000));
            var hcBytes = new Measurement("HttpClient Task workers", _ => ShapeClients.AllocatedPerRequestAsync(c.HcWorkersCountAsync, 2000));
            ms.AddRange([rxBytes, hcBytes]);
            rows.Add(new($"5r allocated bytes per request, {id}'s `Merge(64)` shape vs HttpClient's 64 `Task` workers", "B/req", rxBytes, hcBytes, 0.8, HigherIsBetter: false));
            foreach (var (body, what, hcWhat) in new[] { (ShapeClients.Body.Text, "Text()", "GetStringAsync"), (ShapeClients.Body.Json, "Json<SmallDoc>()", "GetFromJsonAsync") })
            {
                var rx = Measurement.Counted("RxHttp", n => c.RxMergeAsync(n, body));
                var hw = new Measurement("HttpClient Task workers", s => c.HcWorkersAsync(s, body));
                var hm = Measurement.Counted("HttpClient Merge(64) of FromAsync", n => c.HcMergeAsync(n, body));
                ms.AddRange([rx, hw, hm]);
                var doc = body == ShapeClients.Body.Json ? " of a 66-byte document" : "";
                rows.Add(new($"{id} same with `SelectMany(r => r.{what})`{doc}, vs `{hcWhat}` workers", "req/s", rx, hw, 1.0));
                rows.Add(new($"{id} same with `{what}`, vs HttpClient's `Merge(64)` of `FromAsync({hcWhat})`", "req/s", rx, hm, 1.1));
            }
        }
        return new Contest(id, ms, rows, perRound, slices);
    }

    private static Contest OtherShapes(ShapeClients c, TimeSpan perRound, int slices)
    {
        var ms = new List<Measurement>();
        var rows = new List<Comparison>();
        void Add(string label, Func<int, Task<int>> rx, Func<int, Task<int>> hc, int initial)
        {
            var r = Measurement.Counted("RxHttp", rx, initial);
            var h = Measurement.Counted("HttpClient", hc, initial);
            ms.AddRange([r, h]);
            rows.Add(new(label, "req/s", r, h, 1.0));
        }
        Add("s1 `Concat` of 13 B GETs (HttpClient: the same `Concat` over `FromAsync`)", c.RxConcatAsync, c.HcConcatAsync, 512);
        Add("s2 `Retry(3)` around each sequential GET (HttpClient: `FromAsync(...).Retry(3)`)", c.RxRetryAsync, c.HcRetryAsync, 512);
        Add("s3 a URL list through `ToObservable().Select(Get).Merge(8)` (HttpClient: `FromAsync` in the same)", c.RxUrlListAsync, c.HcUrlListAsync, 1024);
        Add("s4 `await` of the response then of `Read()` inside an `async` method (HttpClient: `GetAsync` then `ReadAsByteArrayAsync`)", c.RxAwaitAsync, c.HcAwaitAsync, 512);
        return new Contest("shapes", ms, rows, perRound, slices);
    }

    // Row 3r's bodies per slice: eight slices of 16 (quick: four) per side and round, interleaved and alternating as
    // rows 1 and 2 are, so every side sees the same drift of this machine; 64 bodies in two slices took ~50 ms each.
    private const int BodiesPerSlice = 16;

    private static Contest Buffered(string id, ShapeClients c, RawStreamClient raw, bool chunked, bool quick)
    {
        var slices = quick ? 4 : 8;
        var ms = new List<Measurement>();
        var rows = new List<Comparison>();
        Measurement Add(Measurement m)
        {
            ms.Add(m);
            return m;
        }
        Measurement Raw(string name, string path, RawBody mode) =>
            Add(new Measurement(name, _ => raw.DownloadsAsync(path, BodiesPerSlice, ShapeClients.MidSize, mode)));
        var floor = Raw("raw", "mid", RawBody.Reused);
        var over = id == "3t" ? " over TLS" : "";
        foreach (var path in chunked ? new[] { "mid", "midchunked" } : ["mid"])
        {
            var framing = path == "mid" ? "Content-Length" : "chunked";
            var ch = path == "mid" ? "" : "chunked ";
            // Each floor of an API's own work runs next to that API's two measurements (the order reverses every
            // slice), so the three meet the same garbage left by their neighbours: 1 MiB arrays and 2 MiB strings on
            // the large-object heap, whose collections fall on whichever side crosses the budget.
            var chunkedFloor = path == "mid" ? null : Raw("raw chunked", path, RawBody.Reused);
            var fresh = Raw(path == "mid" ? "raw, fresh array per body" : "raw chunked, fresh array per body", path, RawBody.Fresh);
            var rxRead = Add(new Measurement("RxHttp", _ => c.RxMidAsync(path, ShapeClients.Body.Read, BodiesPerSlice)));
            var hcBytes = Add(new Measurement("HttpClient", _ => c.HcMidAsync(path, ShapeClients.Body.Read, BodiesPerSlice)));
            var hcText = Add(new Measurement("HttpClient", _ => c.HcMidAsync(path, ShapeClients.Body.Text, BodiesPerSlice)));
            var rxText = Add(new Measurement("RxHttp", _ => c.RxMidAsync(path, ShapeClients.Body.Text, BodiesPerSlice)));
            var text = Raw(path == "mid" ? "raw, string per body" : "raw chunked, string per body", path, RawBody.Text);
            // The rows, then (same bar) the floors that do the API's own unavoidable work and nothing else.
            rows.Add(new($"{id} 64 × 1 MiB {framing} bodies{over}, `Read()` vs `GetByteArrayAsync`", "MB/s", rxRead, hcBytes, 1.0));
            rows.Add(new($"{id} same, `Read()` vs the raw floor (Content-Length, one reused buffer)", "MB/s", rxRead, floor, 0.9));
            if (chunkedFloor is not null)
                rows.Add(new($"{id} same, `Read()` vs the raw chunked floor (framing parsed, one reused buffer)", "MB/s", rxRead, chunkedFloor, 0.9, Reference: hcBytes));
            rows.Add(new($"{id} same, `Read()` vs the raw {ch}floor that allocates each body (a fresh exact-length array: the least an API returning the body can do)", "MB/s", rxRead, fresh, 0.9, Reference: hcBytes));
            rows.Add(new($"{id} 64 × 1 MiB {framing} bodies{over}, `Text()` vs `GetStringAsync`", "MB/s", rxText, hcText, 1.0));
            rows.Add(new($"{id} same, `Text()` vs the raw floor", "MB/s", rxText, floor, 0.9));
            rows.Add(new($"{id} same, `Text()` vs the raw {ch}floor that decodes each body into a string (its only allocation: the least an API returning the text can do)", "MB/s", rxText, text, 0.9, Reference: hcText));
        }
        return new Contest(id, ms, rows, TimeSpan.Zero, slices);
    }

    private static Contest SearchAsYouType(ShapeClients c, KestrelBenchServer kestrel, int queries, int slices)
    {
        Contest? contest = null;
        var rx = new Measurement("RxHttp", async _ =>
        {
            var us = await c.SwitchAsync(rx: true, kestrel, queries).ConfigureAwait(false);
            await CheckNothingLeftAsync(contest!, "RxHttp", kestrel, () => c.Rx.Connector.CurrentState is { InUse: 0, Opening: 0, Waiting: 0 }).ConfigureAwait(false);
            return us;
        });
        var hc = new Measurement("HttpClient", async _ =>
        {
            var us = await c.SwitchAsync(rx: false, kestrel, queries).ConfigureAwait(false);
            await CheckNothingLeftAsync(contest!, "HttpClient", kestrel, () => true).ConfigureAwait(false);
            return us;
        });
        contest = new Contest("7", [rx, hc],
            [new($"7 search as you type: {queries} queries through `Switch()`, each cancelling the previous request mid-flight [Kestrel]", "µs/query", rx, hc, 1.0, HigherIsBetter: false)],
            TimeSpan.Zero, slices);
        return contest;
    }

    // After a chain: the server must see every cancelled request's connection closed (nothing leaked), and the pool
    // must hold nothing in use.
    private static async Task CheckNothingLeftAsync(Contest contest, string side, KestrelBenchServer kestrel, Func<bool> poolIdle)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while ((kestrel.SearchesOpen > 0 || !poolIdle()) && sw.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(1).ConfigureAwait(false);
        var note = $"7: {side}: " + (kestrel.SearchesOpen == 0 && poolIdle()
            ? "no request left open at the server, pool idle"
            : $"LEAK: {kestrel.SearchesOpen} requests still open at the server, pool idle: {poolIdle()}");
        if (!contest.Notes.Contains(note)) contest.Notes.Add(note);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _owned) await d.DisposeAsync().ConfigureAwait(false);
    }
}
