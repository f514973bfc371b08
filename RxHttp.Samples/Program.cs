// The quickstart, run against a local Kestrel server this program starts itself, so it works offline.
using System.Net;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RxHttp;

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
var app = builder.Build();
app.MapGet("/hello", () => "Hello, world!");
app.MapGet("/json", () => Results.Json(new { name = "RxHttp", stars = 42 }));
app.MapPost("/echo", async (HttpRequest req) => Results.Text(await new StreamReader(req.Body).ReadToEndAsync(), req.ContentType));
app.MapGet("/stream/{n:int}", async (HttpContext c, int n) =>
{
    for (var i = 0; i < n; i++)
    {
        await c.Response.WriteAsync($"line {i}\n");
        await c.Response.Body.FlushAsync();
    }
});
app.MapGet("/redirect", () => Results.Redirect("/hello"));
app.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));
app.UseWebSockets();
app.Map("/ws", async (HttpContext c) =>
{
    using var ws = await c.WebSockets.AcceptWebSocketAsync();
    var buffer = new byte[4096];
    while (true)
    {
        var r = await ws.ReceiveAsync(buffer, CancellationToken.None);
        if (r.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
        {
            await ws.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            return;
        }
        var reply = System.Text.Encoding.UTF8.GetBytes("echo: " + System.Text.Encoding.UTF8.GetString(buffer, 0, r.Count));
        await ws.SendAsync(reply, System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
    }
});
await app.StartAsync();
var baseUrl = app.Urls.First() + "/";
Console.WriteLine($"Local server: {baseUrl}");

await using var session = new ClientSession(baseUrl);

// 1. The design card's chain.
var text = await session.Get("hello").SelectMany(r => r.Text());
Console.WriteLine($"1. GET /hello -> {text}");

// 2. Status, headers and JSON.
var response = await session.Get("json");
var json = await response.Json<JsonElement>();
Console.WriteLine($"2. GET /json -> {response.Status} {response.Reason}, {response.ContentType}, name={json.GetProperty("name")}");

// 3. POST a JSON body.
var echoed = await session.Post("echo", new() { Json = new { hello = "world" } }).SelectMany(r => r.Text());
Console.WriteLine($"3. POST /echo (json) -> {echoed}");

// 4. Query parameters, aiohttp style.
var withParams = await session.Get("hello", new() { Params = new Dictionary<string, string> { ["key1"] = "value1", ["key2"] = "value2" } });
Console.WriteLine($"4. Params -> {withParams.Url}");
withParams.Release();

// 5. Stream the body as it arrives: chunk by chunk, or line by line.
var chunks = await session.Get("stream/5").SelectMany(r => r.Content).Select(c => c.Length).ToList();
var lines = await session.Get("stream/5").SelectMany(r => r.Lines()).ToList();
Console.WriteLine($"5. Streamed {chunks.Count} chunk(s), {chunks.Sum()} bytes; as lines: {string.Join(" | ", lines)}");

// 6. Redirects are followed, with history.
var redirected = await session.Get("redirect");
Console.WriteLine($"6. GET /redirect -> {redirected.Url.Path} via {string.Join(", ", redirected.History.Select(h => h.Status))}");
await redirected.Text();

// 7. Errors are typed.
try
{
    await session.Get("status/404", new() { RaiseForStatus = true });
}
catch (ClientResponseError e)
{
    Console.WriteLine($"7. RaiseForStatus -> {e.GetType().Name} {e.Status}");
}

// 8. Ten requests at once share the pool; its state is a stream a UI can bind to.
var peak = 0;
using (session.Connector.State.Subscribe(s => peak = Math.Max(peak, s.InUse + s.Opening)))
{
    var all = await Enumerable.Range(0, 10).Select(_ => session.Get("hello").SelectMany(r => r.Text())).Merge().ToList();
    Console.WriteLine($"8. 10 concurrent GETs -> {all.Count} answers; at most {peak} connections busy; pool now: {session.Connector.CurrentState}");
}

// 9. A websocket: messages arrive on a hot observable.
var wsUrl = baseUrl.Replace("http://", "ws://") + "ws";
await using (var ws = await session.WsConnectAsync(wsUrl))
{
    var replies = ws.Messages.Where(m => m.Type == WsMsgType.Text).Select(m => m.Text).Take(3).ToList().ToTask();
    foreach (var word in new[] { "one", "two", "three" }) await ws.SendStr(word);
    Console.WriteLine($"9. WebSocket -> {string.Join(", ", await replies)}");
    await ws.Close();
    Console.WriteLine($"   closed with {ws.CloseCode}");
}

await app.StopAsync();
Console.WriteLine("Done.");
