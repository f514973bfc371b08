using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RxHttp.Samples;

/// <summary>
/// The demo's own local server (Kestrel on 127.0.0.1), so the quickstart, README's runnable blocks and the UI sample
/// work offline. Endpoints: <c>hello</c>, <c>json</c>, <c>echo</c>, <c>items</c>, <c>upload</c>, <c>note</c>,
/// <c>search?q=</c> (a JSON API; "flaky" fails once with 503, "fail" always), <c>big</c>, <c>bytes/{n}</c>,
/// <c>download/{name}?size=&amp;rate=</c> (paced, for progress bars), <c>stream/{n}</c>, <c>events</c>, <c>sse</c>,
/// <c>redirect</c>, <c>status/{code}</c>, websockets <c>ws</c> (echo) and <c>ticks</c> (pushes a message every
/// <c>interval</c> ms).
/// </summary>
public sealed class DemoServer : IAsyncDisposable
{
    private static readonly string[] Catalogue =
    [
        "aiohttp", "akka", "angular", "asyncio", "axios", "bun", "curl", "deno", "django", "dotnet", "express",
        "fastapi", "flask", "grpc", "httpie", "httpx", "kestrel", "kotlin", "nginx", "node", "polly", "python",
        "react", "reactive", "redis", "refit", "requests", "rust", "rxjava", "rxjs", "rxhttp", "rx.net", "spring",
        "svelte", "terminal.gui", "tokio", "typescript", "urllib3", "vue", "websocket", "wget", "yarl",
    ];

    private readonly WebApplication _app;
    private readonly Dictionary<string, int> _flaky = new();

    private DemoServer(WebApplication app) => _app = app;

    /// <summary>The server's base URL, ending with <c>/</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>How many search requests the server has answered (a test reads it to see a superseded query).</summary>
    public int SearchCount => Volatile.Read(ref _searchCount);

    private int _searchCount;

    /// <summary>Starts the server on 127.0.0.1 and the given port (0: any free port).</summary>
    public static async Task<DemoServer> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var server = new DemoServer(app);
        server.Map(app);
        await app.StartAsync();
        server.BaseUrl = $"http://127.0.0.1:{new Uri(app.Urls.First()).Port}/";
        return server;
    }

    /// <summary>The URL of a websocket endpoint of this server.</summary>
    public string WsUrl(string path) => "ws" + BaseUrl[4..] + path;

    private void Map(WebApplication app)
    {
        app.MapGet("/hello", () => "Hello, world!");
        app.MapGet("/json", () => Results.Json(new { name = "RxHttp", stars = 42 }));
        app.MapPost("/echo", async (HttpRequest req) => Results.Text(await new StreamReader(req.Body).ReadToEndAsync(), req.ContentType));
        app.MapPost("/items", async (HttpRequest req) => Results.Text(await new StreamReader(req.Body).ReadToEndAsync(), "application/json", statusCode: 201));
        app.MapPost("/upload", async (HttpRequest req) => Results.Json(new { received = await Drain(req.Body) }));
        app.MapPut("/note", async (HttpRequest req) => Results.Text(await new StreamReader(req.Body).ReadToEndAsync()));
        app.MapGet("/search", Search);
        app.MapGet("/big", (HttpContext c) => WriteBytes(c, 1 << 20, 0, c.RequestAborted));
        app.MapGet("/bytes/{n:long}", (HttpContext c, long n) => WriteBytes(c, n, 0, c.RequestAborted));
        app.MapGet("/download/{name}", (HttpContext c, string name, long? size, long? rate) =>
        {
            c.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
            return WriteBytes(c, size ?? 1 << 20, rate ?? 256 * 1024, c.RequestAborted);
        });
        app.MapGet("/stream/{n:int}", async (HttpContext c, int n) =>
        {
            for (var i = 0; i < n; i++)
            {
                await c.Response.WriteAsync($"line {i}\n");
                await c.Response.Body.FlushAsync();
            }
        });
        app.MapGet("/events", async (HttpContext c) =>
        {
            c.Response.ContentType = "application/x-ndjson";
            for (var i = 1; i <= 3; i++)
            {
                await c.Response.WriteAsync($"{{\"event\":{i}}}\n");
                await c.Response.Body.FlushAsync();
            }
        });
        app.MapGet("/sse", async (HttpContext c) =>
        {
            // Three server-sent events a connection, numbered on from the Last-Event-ID a reconnecting client sends.
            var next = int.TryParse(c.Request.Headers["Last-Event-ID"], out var last) ? last + 1 : 1;
            c.Response.ContentType = "text/event-stream";
            await c.Response.WriteAsync("retry: 50\n\n");
            for (var i = next; i < next + 3; i++)
            {
                await c.Response.WriteAsync($"id: {i}\ndata: tick {i}\n\n");
                await c.Response.Body.FlushAsync();
            }
        });
        app.MapGet("/redirect", () => Results.Redirect("/hello"));
        app.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));
        app.UseWebSockets();
        app.Map("/ws", Echo);
        app.Map("/ticks", Ticks);
    }

    // A small JSON search API: names from the catalogue that contain the query, after a short think, so a UI shows
    // its spinner. "flaky" answers 503 on every other request and "fail" always, so clients can show and retry errors.
    private async Task<IResult> Search(string? q, int? delay, CancellationToken aborted)
    {
        Interlocked.Increment(ref _searchCount);
        q = (q ?? "").Trim().ToLowerInvariant();
        await Task.Delay(delay ?? 150, aborted);
        if (q == "fail") return Results.Problem("the search index is down", statusCode: 503);
        if (q == "flaky")
            lock (_flaky)
            {
                _flaky[q] = _flaky.GetValueOrDefault(q) + 1;
                if (_flaky[q] % 2 == 1) return Results.Problem("try again", statusCode: 503);
            }
        var hits = Catalogue.Where(n => q.Length == 0 || n.Contains(q) || q == "flaky").Take(20)
            .Select(n => new { name = n, stars = n.Sum(c => c) * 7 % 1000 });
        return Results.Json(new { query = q, results = hits });
    }

    // Writes n bytes with a Content-Length, at about `rate` bytes per second when rate > 0.
    private static async Task WriteBytes(HttpContext c, long n, long rate, CancellationToken aborted)
    {
        c.Response.ContentType = "application/octet-stream";
        c.Response.ContentLength = n;
        var chunk = new byte[rate > 0 ? Math.Max(1024, rate / 20) : 64 * 1024];
        Array.Fill(chunk, (byte)'x');
        for (long sent = 0; sent < n;)
        {
            var size = (int)Math.Min(chunk.Length, n - sent);
            await c.Response.Body.WriteAsync(chunk.AsMemory(0, size), aborted);
            sent += size;
            if (rate > 0)
            {
                await c.Response.Body.FlushAsync(aborted);
                await Task.Delay(50, aborted);
            }
        }
    }

    private static async Task<long> Drain(Stream body)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = await body.ReadAsync(buffer)) > 0;) total += n;
        return total;
    }

    private static async Task Echo(HttpContext c)
    {
        if (!c.WebSockets.IsWebSocketRequest) { c.Response.StatusCode = 400; return; }
        using var ws = await c.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[4096];
        while (true)
        {
            var r = await ws.ReceiveAsync(buffer, CancellationToken.None);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                return;
            }
            var reply = Encoding.UTF8.GetBytes("echo: " + Encoding.UTF8.GetString(buffer, 0, r.Count));
            await ws.SendAsync(reply, WebSocketMessageType.Text, true, CancellationToken.None);
        }
    }

    // Pushes "tick N <price>" every `interval` ms (default 500) until the client closes.
    private static async Task Ticks(HttpContext c)
    {
        if (!c.WebSockets.IsWebSocketRequest) { c.Response.StatusCode = 400; return; }
        var interval = int.TryParse(c.Request.Query["interval"], out var ms) ? ms : 500;
        using var ws = await c.WebSockets.AcceptWebSocketAsync();
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(c.RequestAborted);
        var reader = ReadUntilClose(ws, closed);
        try
        {
            for (var i = 1; !closed.IsCancellationRequested; i++)
            {
                var price = 100 + 10 * Math.Sin(i / 5.0);
                await ws.SendAsync(Encoding.UTF8.GetBytes($"tick {i} {price:F2}"), WebSocketMessageType.Text, true, closed.Token);
                await Task.Delay(interval, closed.Token);
            }
        }
        catch (OperationCanceledException) { }
        catch (WebSocketException) { }
        if (ws.State == WebSocketState.CloseReceived)
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await reader;
    }

    // Reads (and drops) what the client sends until its CLOSE or a failure, then stops the sender.
    private static async Task ReadUntilClose(WebSocket ws, CancellationTokenSource closed)
    {
        var buffer = new byte[256];
        try { while ((await ws.ReceiveAsync(buffer, closed.Token)).MessageType != WebSocketMessageType.Close) { } }
        catch (OperationCanceledException) { }
        catch (WebSocketException) { }
        closed.Cancel();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
