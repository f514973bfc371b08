using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using RxHttp.Tests.Support;
using RxHttp.Tests.WebSockets;

namespace RxHttp.Tests.Cli;

/// <summary>The Kestrel fixture with the routes the CLI tests need: cookies, ranges, a gated event stream, auth, websockets.</summary>
internal static class CliServer
{
    public const int FileSize = 100_000;
    public static readonly byte[] File = KestrelServer.Pattern(FileSize);

    public static Task<KestrelServer> StartAsync(CliRoutes routes) => KestrelServer.StartAsync(app =>
    {
        app.UseWebSockets();
        app.Map("/ws/echo", async ctx =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            await WsServers.EchoAsync(ws);
        });
        app.Map("/ws/bye", async ctx =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            await ws.SendAsync("bye soon"u8.ToArray(), WebSocketMessageType.Text, true, default);
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", default);
        });
        app.Map("/ws/record", async ctx =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var r = await ws.ReceiveAsync(buffer, default);
                    // A message proves the client finished its handshake and is in its session loop.
                    if (r.MessageType != WebSocketMessageType.Close) { routes.WsOpened.TrySetResult(); continue; }
                    routes.WsClosed.TrySetResult(((int?)r.CloseStatus, r.CloseStatusDescription));
                    await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", default);
                    return;
                }
            }
            catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
            {
                routes.WsClosed.TrySetResult((null, "no CLOSE frame: " + e.Message));
            }
        });
        app.MapGet("/cookie/set", (HttpContext c) =>
        {
            foreach (var (k, v) in c.Request.Query) c.Response.Cookies.Append(k, v.ToString(), new CookieOptions { Path = "/" });
            return "set";
        });
        app.MapGet("/cookie/show", (HttpContext c) => "cookie=" + c.Request.Headers.Cookie.ToString());
        // As JsonSerializer.Serialize writes it by default (Python's json.dumps too): every non-ASCII character, quote and
        // < escaped.
        app.MapGet("/json/escaped", () => Results.Text(
            """{"name":"caf\u00E9 \u0022q\u0022 \u003Cb\u003E \uD83D\uDE00","esc":"\u001B[31m"}""", "application/json"));
        app.MapGet("/file", (HttpContext c) =>
        {
            routes.LastRange = c.Request.Headers.Range.ToString();
            return Results.Bytes(File, "application/octet-stream", fileDownloadName: "data.bin", enableRangeProcessing: true);
        });
        app.MapGet("/dotfile", () => Results.Bytes("export X=1\n"u8.ToArray(), "text/plain", fileDownloadName: ".profile"));
        app.MapGet("/file-norange", (HttpContext c) =>
        {
            routes.LastRange = c.Request.Headers.Range.ToString();
            return Results.Bytes(File, "application/octet-stream");
        });
        app.MapGet("/sse", async (HttpContext c) =>
        {
            c.Response.ContentType = "text/event-stream";
            await c.Response.WriteAsync("data: one\n\n");
            await c.Response.Body.FlushAsync();
            await routes.Gate.Task;
            await c.Response.WriteAsync("data: two\n\n");
        });
        app.MapGet("/digest", (HttpContext c) =>
        {
            Interlocked.Increment(ref routes.DigestHits);
            if (DigestCheck.Accepts(c.Request.Headers.Authorization.ToString(), "GET", "me", "cli@rx", "pw", "MD5")) return Results.Text("digest welcome");
            c.Response.Headers.WWWAuthenticate = DigestCheck.Challenge("cli@rx", "MD5", "cli-nonce");
            return Results.Text("who are you?", statusCode: 401);
        });
        app.MapGet("/basic", (HttpContext c) =>
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("me:pw"));
            if (c.Request.Headers.Authorization.ToString() == expected) return Results.Text("welcome");
            c.Response.Headers.WWWAuthenticate = "Basic realm=\"x\"";
            return Results.Text("who are you?", statusCode: 401);
        });
    });
}

/// <summary>Per-fixture state the routes share with the tests.</summary>
internal sealed class CliRoutes
{
    public volatile string? LastRange;
    public int DigestHits;
    public TaskCompletionSource WsOpened { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource<(int? Code, string? Reason)> WsClosed { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Gate { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
