using System.Diagnostics;
using System.Net.Http.Json;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Reactive.Threading.Tasks;

namespace RxHttp.Benchmarks;

/// <summary>The small JSON document of the Json rows (served as /json by both servers).</summary>
internal sealed record SmallDoc(int Id, string Name, string[] Tags, double Score);

/// <summary>
/// The shapes a Rx user writes (rows 2r, 3r, 7 and the other shapes), each as one measurement of RxHttp and of
/// HttpClient: HttpClient in its usual <c>Task</c> shape and wrapped in the same Rx operators with
/// <c>Observable.FromAsync</c>, which is what a Rx user keeping HttpClient would write.
/// </summary>
internal sealed class ShapeClients : IAsyncDisposable
{
    public const int Concurrency = 64;
    public const int MidCount = 64; // row 3r: bodies per measurement (the benchmark takes them in slices)

    public ClientSession Rx { get; }
    public HttpClient Hc { get; }
    private readonly string _base;

    public ShapeClients(string httpBase, bool tls = false, bool fresh = false)
    {
        _base = httpBase;
        var tlsOptions = tls ? TlsOptions.NoVerify : TlsOptions.Default;
        Rx = new ClientSession(new ClientSessionOptions
        {
            Connector = new TcpConnector(fresh
                ? new TcpConnectorOptions { Limit = Concurrency, ForceClose = true, Tls = tlsOptions }
                : new TcpConnectorOptions { Limit = Concurrency, KeepaliveTimeout = Measure.PoolIdleTimeout, Tls = tlsOptions }),
        });
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency, UseCookies = false, PooledConnectionIdleTimeout = Measure.PoolIdleTimeout };
        // Certificate checks off on both sides: the rows measure TLS, not chain building.
        if (tls) handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        Hc = new HttpClient(handler);
        if (fresh) Hc.DefaultRequestHeaders.ConnectionClose = true;
        Hc.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", new ClientSessionOptions().UserAgent);
        Hc.DefaultRequestHeaders.TryAddWithoutValidation("Accept", "*/*");
        Hc.DefaultRequestHeaders.TryAddWithoutValidation("Accept-Encoding", "gzip, deflate, br, zstd");
    }

    public Url RxUrl(string path) => Url.Parse(_base + path);
    public Uri HcUrl(string path) => new(_base + path);

    public ValueTask DisposeAsync()
    {
        Hc.Dispose();
        return Rx.DisposeAsync();
    }

    // ---- bodies, checked so a wrong answer cannot pass as a fast one ----

    internal static void Check(int got, int expected)
    {
        if (got != expected) throw new InvalidOperationException($"body of {got} bytes, expected {expected}");
    }

    private static void Check(SmallDoc? doc)
    {
        if (doc is not { Id: 1 }) throw new InvalidOperationException("unexpected JSON document");
    }

    /// <summary>What each request of a rate shape reads: its body as bytes, text or a JSON document.</summary>
    public enum Body { Read, Text, Json }

    public IObservable<int> RxRequest(Url url, Body body) => body switch
    {
        Body.Read => Rx.Get(url).SelectMany(r => r.Read()).Select(b => b.Length),
        Body.Text => Rx.Get(url).SelectMany(r => r.Text()).Select(s => s.Length),
        _ => Rx.Get(url).SelectMany(r => r.Json<SmallDoc>()).Select(d => d!.Id),
    };

    public Task<int> HcRequest(Uri url, Body body, CancellationToken ct = default) => body switch
    {
        Body.Read => HcBytes(url, ct),
        Body.Text => HcText(url, ct),
        _ => HcJson(url, ct),
    };

    private async Task<int> HcBytes(Uri url, CancellationToken ct) => (await Hc.GetByteArrayAsync(url, ct).ConfigureAwait(false)).Length;
    private async Task<int> HcText(Uri url, CancellationToken ct) => (await Hc.GetStringAsync(url, ct).ConfigureAwait(false)).Length;
    private async Task<int> HcJson(Uri url, CancellationToken ct) => (await Hc.GetFromJsonAsync<SmallDoc>(url, ct).ConfigureAwait(false))!.Id;

    public static int Expected(Body body) => body == Body.Json ? 1 : 13;

    public static string PathOf(Body body) => body == Body.Json ? "json" : "hello";

    // ---- row 2r: 64 concurrent, as Merge(64) over Range, and as 64 Task workers ----

    /// <summary>
    /// <c>Observable.Range(0, n).Select(_ => session.Get(u).SelectMany(r => r.Read())).Merge(64)</c>, as written
    /// (no projection between the request and Merge), with a check of each result after Merge.
    /// </summary>
    public async Task<int> RxMergeAsync(int n, Body body)
    {
        var url = RxUrl(PathOf(body));
        var expected = Expected(body);
        return body switch
        {
            Body.Read => await Observable.Range(0, n).Select(_ => Rx.Get(url).SelectMany(r => r.Read())).Merge(Concurrency).Do(b => Check(b.Length, expected)).Count(),
            Body.Text => await Observable.Range(0, n).Select(_ => Rx.Get(url).SelectMany(r => r.Text())).Merge(Concurrency).Do(t => Check(t.Length, expected)).Count(),
            _ => await Observable.Range(0, n).Select(_ => Rx.Get(url).SelectMany(r => r.Json<SmallDoc>())).Merge(Concurrency).Do(Check).Count(),
        };
    }

    /// <summary>The same Merge(64) over <c>Observable.FromAsync</c> of HttpClient.</summary>
    public async Task<int> HcMergeAsync(int n, Body body)
    {
        var url = HcUrl(PathOf(body));
        var expected = Expected(body);
        return await Observable.Range(0, n).Select(_ => Observable.FromAsync(ct => HcRequest(url, body, ct))).Merge(Concurrency)
            .Do(got => Check(got, expected)).Count();
    }

    /// <summary>Row 2's shape: 64 <c>async</c> workers awaiting <c>session.Get(u).SelectMany(r => r.Read())</c>.</summary>
    public Task<double> RxWorkersAsync(TimeSpan slice, Body body)
    {
        var url = RxUrl(PathOf(body));
        var expected = Expected(body);
        return Measure.ConcurrentLoopAsync(slice, Concurrency, body switch
        {
            Body.Read => async () => Check((await Rx.Get(url).SelectMany(r => r.Read())).Length, expected),
            Body.Text => async () => Check((await Rx.Get(url).SelectMany(r => r.Text())).Length, expected),
            _ => async () => Check((await Rx.Get(url).SelectMany(r => r.Json<SmallDoc>()))!.Id, expected),
        });
    }

    /// <summary>
    /// As <see cref="RxMergeAsync"/>, timing each inner subscription: the time Subscribe takes is time Merge holds
    /// its gate (it subscribes queued inners under it). Returns the count and the total ticks spent subscribing.
    /// </summary>
    public async Task<(int Count, long SubscribeTicks)> RxMergeTimedAsync(int n)
    {
        var url = RxUrl("hello");
        long ticks = 0;
        var count = await Observable.Range(0, n).Select(_ => (IObservable<int>)new TimedSubscribe<int>(RxRequest(url, Body.Read), t => Interlocked.Add(ref ticks, t)))
            .Merge(Concurrency).Count();
        return (count, ticks);
    }

    private sealed class TimedSubscribe<T>(IObservable<T> inner, Action<long> report) : IObservable<T>
    {
        public IDisposable Subscribe(IObserver<T> observer)
        {
            var t0 = Stopwatch.GetTimestamp();
            var d = inner.Subscribe(observer);
            report(Stopwatch.GetTimestamp() - t0);
            return d;
        }
    }

    public Task<double> HcWorkersAsync(TimeSpan slice, Body body)
    {
        var url = HcUrl(PathOf(body));
        var expected = Expected(body);
        return Measure.ConcurrentLoopAsync(slice, Concurrency, async () => Check(await HcRequest(url, body).ConfigureAwait(false), expected));
    }

    /// <summary><paramref name="n"/> GETs by 64 <c>Task</c> workers of HttpClient (row 5r's peer).</summary>
    public async Task<int> HcWorkersCountAsync(int n)
    {
        var url = HcUrl("hello");
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= n) Check(await HcRequest(url, Body.Read).ConfigureAwait(false), 13);
        }))).ConfigureAwait(false);
        return n;
    }

    /// <summary>Bytes the process allocates per request of <paramref name="run"/> over <paramref name="n"/> requests.</summary>
    public static async Task<double> AllocatedPerRequestAsync(Func<int, Task<int>> run, int n)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var done = await run(n).ConfigureAwait(false);
        return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)done;
    }

    // ---- the other shapes ----

    /// <summary>Requests one after another with <c>Concat</c>.</summary>
    public Task<int> RxConcatAsync(int n) =>
        Observable.Range(0, n).Select(_ => RxRequest(RxUrl("hello"), Body.Read)).Concat().Do(got => Check(got, 13)).Count().ToTask();

    public Task<int> HcConcatAsync(int n) =>
        Observable.Range(0, n).Select(_ => Observable.FromAsync(ct => HcRequest(HcUrl("hello"), Body.Read, ct))).Concat().Do(got => Check(got, 13)).Count().ToTask();

    /// <summary>One request under <c>Retry(3)</c> (it succeeds: the cost of the operator on the happy path), sequentially.</summary>
    public async Task<int> RxRetryAsync(int n)
    {
        var url = RxUrl("hello");
        for (var i = 0; i < n; i++) Check(await RxRequest(url, Body.Read).Retry(3), 13);
        return n;
    }

    public async Task<int> HcRetryAsync(int n)
    {
        var url = HcUrl("hello");
        for (var i = 0; i < n; i++) Check(await Observable.FromAsync(ct => HcRequest(url, Body.Read, ct)).Retry(3), 13);
        return n;
    }

    /// <summary>A list of URLs through <c>ToObservable()</c> and <c>Merge(8)</c>.</summary>
    public Task<int> RxUrlListAsync(int n)
    {
        var urls = Enumerable.Repeat(RxUrl("hello"), n).ToList();
        return urls.ToObservable().Select(u => RxRequest(u, Body.Read)).Merge(8).Do(got => Check(got, 13)).Count().ToTask();
    }

    public Task<int> HcUrlListAsync(int n)
    {
        var urls = Enumerable.Repeat(HcUrl("hello"), n).ToList();
        return urls.ToObservable().Select(u => Observable.FromAsync(ct => HcRequest(u, Body.Read, ct))).Merge(8).Do(got => Check(got, 13)).Count().ToTask();
    }

    /// <summary><c>await</c> inside an <c>async</c> method: the response, then its body, awaited in turn.</summary>
    public async Task<int> RxAwaitAsync(int n)
    {
        var url = RxUrl("hello");
        for (var i = 0; i < n; i++) Check((await FetchAsync(url)).Length, 13);
        return n;

        async Task<byte[]> FetchAsync(Url u)
        {
            var response = await Rx.Get(u);
            return await response.Read();
        }
    }

    public async Task<int> HcAwaitAsync(int n)
    {
        var url = HcUrl("hello");
        for (var i = 0; i < n; i++) Check((await FetchAsync(url).ConfigureAwait(false)).Length, 13);
        return n;

        async Task<byte[]> FetchAsync(Uri u)
        {
            using var response = await Hc.GetAsync(u).ConfigureAwait(false);
            return await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Row 1's shape (and 1t's): <c>await session.Get(u).SelectMany(r => r.Read())</c> in a loop.</summary>
    public Task<double> RxSequentialAsync(TimeSpan slice)
    {
        var url = RxUrl("hello");
        return Measure.TimedLoopAsync(slice, async () => Check((await Rx.Get(url).SelectMany(r => r.Read())).Length, 13));
    }

    public Task<double> HcSequentialAsync(TimeSpan slice)
    {
        var url = HcUrl("hello");
        return Measure.TimedLoopAsync(slice, async () => Check((await Hc.GetByteArrayAsync(url).ConfigureAwait(false)).Length, 13));
    }

    // ---- row 3r: 64 bodies of 1 MiB, sequentially ----

    public async Task<double> RxMidAsync(string path, Body body, int count = MidCount)
    {
        var url = RxUrl(path);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < count; i++) Check(await RxRequest(url, body), MidSize);
        return Measure.MBps((long)count * MidSize, sw.Elapsed);
    }

    public async Task<double> HcMidAsync(string path, Body body, int count = MidCount)
    {
        var url = HcUrl(path);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < count; i++) Check(await HcRequest(url, body).ConfigureAwait(false), MidSize);
        return Measure.MBps((long)count * MidSize, sw.Elapsed);
    }

    /// <summary>The size of /mid and /midchunked: 1 MiB of ASCII text.</summary>
    public const int MidSize = 1 << 20;

    public static readonly byte[] MidBody = Enumerable.Range(0, MidSize).Select(i => (byte)('a' + i % 26)).ToArray();

    public static readonly byte[] JsonBody = """{"id":1,"name":"RxHttp","tags":["rx","http","client"],"score":0.5}"""u8.ToArray();

    // ---- row 7: search as you type with Switch() ----

    /// <summary>
    /// <paramref name="queries"/> queries through <c>Switch()</c>, each typed once the previous one's request reached
    /// the server (which holds every request but the last one open): every request but the last is cancelled
    /// mid-flight. Returns the wall time per query.
    /// </summary>
    public async Task<double> SwitchAsync(bool rx, KestrelBenchServer server, int queries)
    {
        var typed = new Subject<int>();
        var baseUrl = server.HttpBase + "search?q=";
        var last = queries - 1;
        var results = rx
            ? typed.Select(q => Rx.Get(Url.Parse(baseUrl + q + (q == last ? "&last=1" : ""))).SelectMany(r => r.Text())).Switch()
            : typed.Select(q => Observable.FromAsync(ct => Hc.GetStringAsync(new Uri(baseUrl + q + (q == last ? "&last=1" : "")), ct))).Switch();
        var done = results.LastAsync().ToTask();
        var sw = Stopwatch.StartNew();
        for (var q = 0; q < queries; q++)
        {
            typed.OnNext(q);
            await server.SearchArrived().ConfigureAwait(false);
        }
        typed.OnCompleted();
        var answer = await done.ConfigureAwait(false);
        var elapsed = sw.Elapsed;
        if (answer != "found " + last) throw new InvalidOperationException("last search answered " + answer);
        return elapsed.TotalMicroseconds / queries;
    }
}
