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
        app.MapGet("/cookie/set", (HttpContext c) =>
        {
            foreach (var (k, v) in c.Request.Query) c.Response.Cookies.Append(k, v.ToString(), new CookieOptions { Path = "/" });
            return "set";
        });
        app.MapGet("/cookie/show", (HttpContext c) => "cookie=" + c.Request.Headers.Cookie.ToString());
        app.MapGet("/file", (HttpContext c) =>
        {
            routes.LastRange = c.Request.Headers.Range.ToString();
            return Results.Bytes(File, "application/octet-stream", fileDownloadName: "data.bin", enableRangeProcessing: true);
        });
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
    public TaskCompletionSource Gate { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
