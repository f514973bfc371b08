// The quickstart, run against a local Kestrel server this program starts itself, so it works offline.
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text.Json;
using RxHttp;
using RxHttp.Samples;

// `--serve [port]` keeps the server up (default http://127.0.0.1:8080/) for README's snippets, the CLI or a browser.
var serve = args.Length > 0 && args[0] == "--serve";
await using var server = await DemoServer.StartAsync(serve ? (args.Length > 1 ? int.Parse(args[1]) : 8080) : 0);
var baseUrl = server.BaseUrl;
Console.WriteLine($"Local server: {baseUrl}");
if (serve)
{
    var stop = new TaskCompletionSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
    Console.WriteLine("Serving until Ctrl-C.");
    await stop.Task;
    return;
}

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
var wsUrl = server.WsUrl("ws");
await using (var ws = await session.WsConnectAsync(wsUrl))
{
    var replies = ws.Messages.Where(m => m.Type == WsMsgType.Text).Select(m => m.Text).Take(3).ToList().ToTask();
    foreach (var word in new[] { "one", "two", "three" }) await ws.SendStr(word);
    Console.WriteLine($"9. WebSocket -> {string.Join(", ", await replies)}");
    await ws.Close();
    Console.WriteLine($"   closed with {ws.CloseCode}");
}

// 10. Server-sent events: the stream reconnects when it ends, resuming from the last event id.
var ticks = await session.EventSource("sse").Take(5).Select(e => $"{e.Id}:{e.Data}").ToList();
Console.WriteLine($"10. EventSource -> {string.Join(", ", ticks)} (two streams, the second from Last-Event-ID 3)");

Console.WriteLine("Done.");
