// The README's code, compiled with the sample so the documentation cannot drift from the API. Nothing here runs.
#pragma warning disable CS1998, CS0168, CS0219, CS8321, CS4014, IDE0059
using System.Net.Sockets;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RxHttp;
using RxHttp.Extensions.DependencyInjection;

namespace RxHttp.Samples;

internal static partial class ReadmeSnippets
{
    [System.Text.Json.Serialization.JsonSerializable(typeof(MyDto))]
    [System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
    private sealed partial class MyJson : System.Text.Json.Serialization.JsonSerializerContext;

    private sealed record MyDto(string Name);
    private sealed record User(string Name);
    private static readonly byte[] sha256Pin = new byte[32];
    private static readonly string bigText = "";
    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> GenerateChunksAsync() { yield return new byte[1]; await Task.Yield(); }

    private static async Task Block1()
    {

        await using var session = new ClientSession("http://localhost:8080/");
        session.Get("hello").SelectMany(r => r.Text()).Subscribe(Console.WriteLine);
    }

    private static async Task Block2()
    {
        await using var session = new ClientSession("http://127.0.0.1:8080/");

        // Text, bytes, JSON.
        string text = await session.Get("hello").SelectMany(r => r.Text());
        var response = await session.Get("json");
        Console.WriteLine($"{response.Status} {response.ContentType}");
        var doc = await response.Json<MyDto>();

        // Bodies.
        await session.Post("items", new() { Json = new { name = "x" } });
        await session.Post("upload", new() { Data = File.ReadAllBytes("a.bin") });
        await session.Put("note", new() { Data = "plain text" });

        // Query parameters: a dictionary, repeated keys, or a raw string.
        await session.Get("search", new() { Params = new Dictionary<string, string> { ["q"] = "rx" } });

        // Streaming: chunks arrive as they are read; each chunk is a fresh array you may keep.
        session.Get("big").SelectMany(r => r.Content).Subscribe(chunk => Console.WriteLine(chunk.Length));

        // Pull with back-pressure.
        var r = await session.Get("big");
        await foreach (var chunk in r.IterChunked(16 * 1024)) { /* the socket is read only as fast as you consume */ }

        // Lines as they arrive (NDJSON, server-sent events, logs), like aiohttp's `async for line in resp.content`.
        session.Get("events").SelectMany(r => r.Lines()).Subscribe(line => Console.WriteLine(line));

        // Errors are typed (aiohttp's hierarchy rooted at ClientError).
        try { await session.Get("missing", new() { RaiseForStatus = true }); }
        catch (ClientResponseError e) { Console.WriteLine(e.Status); }
    }

    private static async Task Block3()
    {
        var session = new ClientSession("https://api.example.com/", new ClientSessionOptions
        {
            Timeout = new ClientTimeout { Total = TimeSpan.FromSeconds(30), SockRead = TimeSpan.FromSeconds(5) },
            Auth = new BasicAuth("me", "secret"),              // only sent to https://api.example.com
            Cookies = new Dictionary<string, string> { ["lang"] = "en" },
            Middlewares = new[] { RetryOperator.Middleware(new RetryOptions { MaxAttempts = 3 }, Scheduler.Default) },
            RaiseForStatusWhen = r => r.Status >= 500,
        });
        using var trace = session.Trace.Subscribe(e => Console.WriteLine($"{e.Time:O} #{e.RequestId} {e.Kind} {e.Url}"));
        var user = await session.Get("users/1", new RequestOptions { Timeout = TimeSpan.FromSeconds(5) })
                                .SelectMany(r => r.Json<User>());
    }

    private static async Task Block4()
    {
        var connector = new TcpConnector(new TcpConnectorOptions
        {
            Limit = 100,            // connections in use + being opened (0 = no limit)
            LimitPerHost = 10,      // per host/port/TLS/proxy key (0 = no limit)
            KeepaliveTimeout = TimeSpan.FromSeconds(15), // idle expiry on the session's scheduler; Keep-Alive: timeout=N shortens it
            ResponsePollWindow = TimeSpan.FromMicroseconds(64), // a lone request on a fast server polls for its answer (Zero: off)
            UnsafeInlineCompletions = false, // true: under concurrency your observers may run on the socket thread (below)
            TtlDnsCache = TimeSpan.FromSeconds(10),      // null = cache forever; UseDnsCache = false to resolve every time
            HappyEyeballsDelay = TimeSpan.FromMilliseconds(250), // RFC 8305 racing of a host's addresses
            Family = AddressFamily.Unspecified,          // or InterNetwork / InterNetworkV6
            Tls = new TlsOptions { Fingerprint = sha256Pin }, // verification is on by default
        });
        await using var session = new ClientSession(new ClientSessionOptions { Connector = connector });
        connector.State.Subscribe(s => Console.WriteLine($"in use {s.InUse}, idle {s.Idle}, waiting {s.Waiting}"));
    }

    private static async Task Block5()
    {
        await using var session = new ClientSession("http://localhost/");
        // Bytes, text, JSON
        await session.Post("post", new() { Data = new byte[] { 1, 2, 3 } });        // application/octet-stream
        await session.Post("post", new() { Data = "hello" });                        // text/plain; charset=utf-8
        await session.Post("post", new() { Json = new { test = "object" } });        // application/json (Data and Json together → ArgumentException)

        // Forms (application/x-www-form-urlencoded): dictionary, pairs with repeats, dictionary of lists
        await session.Post("post", new() { Data = new Dictionary<string, string> { ["key1"] = "value1" } });
        await session.Post("post", new() { Data = new[] { ("key", "value1"), ("key", "value2") } });

        // Multipart: becomes multipart/form-data as soon as a file is added; files are streamed, never read whole
        var form = new FormData()
            .AddField("title", "report")
            .AddField("file", new FileInfo("report.xls"))                                   // filename and type from the file
            .AddField("blob", File.OpenRead("data.bin"), "application/octet-stream", "data.bin");
        await session.Post("post", new() { Data = form });

        var mp = new MultipartWriter("mixed");
        mp.AppendJson(new { a = 1 });
        mp.Append(new FileInfo("a.pdf")).SetContentDisposition("attachment", filename: "отчёт.pdf"); // RFC 5987/7578 filename*
        await session.Post("post", new() { Data = mp });

        // Streaming uploads
        await session.Post("post", new() { Data = File.OpenRead("big.iso") });            // Content-Length from the stream
        await session.Post("post", new() { Data = GenerateChunksAsync() });                // IAsyncEnumerable<ReadOnlyMemory<byte>>: chunked
        var resp = await session.Get("bytes/1000000");
        await session.Post("post", new() { Data = resp });                                 // pipe a response into another request

        // Compression, Expect: 100-continue, progress
        await session.Post("post", new() { Data = bigText, Compress = "deflate" });        // or "gzip", "br", "zstd"; sent chunked
        var r = await session.Put("upload", new() { Data = new FileInfo("big.iso"), Expect100 = true }); // 417/401 → body never sent

        var progress = new Subject<TransferProgress>();
        progress.Sample(TimeSpan.FromMilliseconds(100)).Subscribe(p => Console.WriteLine($"{p.Bytes}/{p.Total}"));
        await session.Post("post", new() { Data = new FileInfo("big.iso"), UploadProgress = progress });

        var download = await session.Get("bytes/100000000");
        download.DownloadProgress.Sample(TimeSpan.FromMilliseconds(100)).Subscribe(p => Console.WriteLine(p.Fraction));
        await download.Read();
    }

    private static async Task Block6()
    {
        await using var session = new ClientSession("http://localhost/");
        await session.Get("get", new() { Params = new Dictionary<string, string> { ["key1"] = "value1", ["key2"] = "value2" } });
        await session.Get("get", new() { Params = new[] { ("key", "value1"), ("key", "value2") } });   // ?key=value1&key=value2
        await session.Get("get", new() { Params = "key=value+1" });                                    // raw: the + is kept
        await session.Get("http://example.com/путь/%30?a=%31");       // sent as /%D0%BF%D1%83%D1%82%D1%8C/0?a=1
        await session.Get("http://example.com/%30", new() { Encoded = true });   // sent byte for byte
    }

    private static async Task Block7()
    {
        using var session = new ClientSession();

        // Rx style: the subscription owns the socket; disposing it closes the websocket.
        using var sub = session.WsConnect("ws://localhost:8080/chat", new WsConnectOptions { Compress = 15, Heartbeat = TimeSpan.FromSeconds(30) })
            .SelectMany(ws => ws.Messages)
            .Where(m => m.Type == WsMsgType.Text)
            .Subscribe(m => Console.WriteLine(m.Text));

        // await style: you own the socket.
        await using var ws = await session.WsConnectAsync("ws://localhost:8080/chat");
        await ws.SendStr("hello");
        await foreach (var msg in ws)            // ends at the server's CLOSE; throws on failure
            Console.WriteLine(msg.Text);
    }

    private static async Task Block8()
    {
        await using var session = new ClientSession("http://localhost/");
        var live = session.WsReconnecting("wss://feed.example.com/ticks",
            reconnect: new ReconnectOptions { InitialDelay = TimeSpan.FromSeconds(1), Factor = 2, MaxDelay = TimeSpan.FromSeconds(30) });
        live.Reconnected.Subscribe(r => Console.WriteLine($"{r.Type} after {r.Attempts} attempt(s)"));
        live.Disconnected.Subscribe(d => Console.WriteLine($"lost: {d.CloseCode} {d.Exception?.Message}"));
        live.Messages.Subscribe(m => Console.WriteLine(m.Text));   // one hot stream across reconnections
        live.Start();
        await live.SendStr("subscribe");                           // on the current socket; fails while reconnecting
    }


    private static async Task BlockTasks(ClientSession session)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        string page = await session.GetStringAsync("hello", cancellationToken: cts.Token);
        byte[] blob = await session.GetBytesAsync("bytes/1000", cancellationToken: cts.Token);
        using var sent = await session.SendAsync("POST", "items", new RequestOptions { Json = new { name = "x" } }, cts.Token);

        await foreach (ReadOnlyMemory<byte> chunk in session.GetChunksAsync("big", cancellationToken: cts.Token))
            Console.WriteLine(chunk.Length);     // pulled: the socket is read only as fast as the loop runs
        await foreach (string line in session.GetLinesAsync("events", cancellationToken: cts.Token))
            Console.WriteLine(line);             // leaving the loop early closes the connection
    }

    private static async Task BlockJson()
    {
        // [JsonSerializable(typeof(MyDto))] [JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
        // partial class MyJson : JsonSerializerContext;
        await using var aot = new ClientSession("http://localhost:8080/", new ClientSessionOptions { JsonOptions = MyJson.Default.Options });
        var dto = await aot.Post("echo", new RequestOptions { Json = new MyDto("x") }).SelectMany(r => r.Json(MyJson.Default.MyDto));
        await aot.Post("echo", new RequestOptions { Data = JsonPayload.Create(new MyDto("y"), MyJson.Default.MyDto) });
    }

    private static async Task BlockCodings(ClientSession session)
    {
        var zipped = await session.Get("logs/today").SelectMany(r => r.Text());            // zstd, br, gzip or deflate
        await session.Post("upload", new RequestOptions { Data = bigText, Compress = "zstd" });
    }

    private static async Task BlockDependencyInjection()
    {
        var services = new ServiceCollection();
        services.AddRxHttp();                                   // the default session: inject ClientSession
        services.AddRxHttp("github", o =>
        {
            o.BaseUrl = "https://api.github.com/";
            o.Timeout = TimeSpan.FromSeconds(30);
            o.Headers["Accept"] = "application/vnd.github+json";
        });
        IConfiguration configuration = new ConfigurationBuilder().Build();
        services.AddRxHttp("billing", o => { }).Bind(configuration.GetSection("RxHttp:billing"));

        await using var provider = services.BuildServiceProvider();
        ClientSession github = provider.GetRequiredService<IClientSessionFactory>().GetSession("github");
    }
}
