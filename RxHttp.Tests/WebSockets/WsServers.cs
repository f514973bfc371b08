using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;
using RxHttp.WebSockets;

namespace RxHttp.Tests.WebSockets;

/// <summary>Websocket peers for the client tests: Kestrel endpoints, a scripted raw server, and Python servers.</summary>
internal static class WsServers
{
    /// <summary>Kestrel with the websocket endpoints the tests share.</summary>
    public static Task<KestrelServer> StartKestrelAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null) => KestrelServer.StartAsync(app =>
    {
        app.UseWebSockets();
        app.Map("/ws/cookie", async ctx =>
        {
            var seen = ctx.Request.Headers.Cookie.ToString();
            ctx.Response.Headers.SetCookie = "from101=yes; Path=/";
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            await ws.SendAsync(Encoding.UTF8.GetBytes(seen), WebSocketMessageType.Text, true, default);
            await EchoAsync(ws);
        });
        app.Map("/ws/echo", async ctx =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest) { ctx.Response.StatusCode = 400; return; }
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                DangerousEnableCompression = true,
                SubProtocol = ctx.WebSockets.WebSocketRequestedProtocols.Contains("chat") ? "chat" : null,
            });
            await EchoAsync(ws);
        });
        app.Map("/ws/close", async ctx =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var code = int.Parse(ctx.Request.Query["code"].ToString());
            await ws.SendAsync("bye soon"u8.ToArray(), WebSocketMessageType.Text, true, default);
            await ws.CloseAsync((WebSocketCloseStatus)code, ctx.Request.Query["reason"], default);
        });
        app.Map("/ws/fragmented", async ctx =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            await ws.SendAsync("héllo "u8.ToArray(), WebSocketMessageType.Text, false, default);
            // A multi-byte character cut across two fragments.
            var euro = "€"u8.ToArray();
            await ws.SendAsync(euro.AsMemory(0, 1), WebSocketMessageType.Text, false, default);
            await ws.SendAsync(euro.AsMemory(1), WebSocketMessageType.Text, false, default);
            await ws.SendAsync(" world"u8.ToArray(), WebSocketMessageType.Text, true, default);
            await EchoAsync(ws);
        });
        app.Map("/ws/headers", async ctx =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var h = ctx.Request.Headers;
            var text = $"{ctx.Request.Path}{ctx.Request.QueryString}|{h.Origin}|{h.Authorization}|{h["X-Test"]}|{h.UserAgent}";
            await ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, default);
            await EchoAsync(ws);
        });
        app.MapGet("/ws/reject", (HttpContext ctx) =>
        {
            ctx.Response.Headers["X-Reason"] = "nope";
            return Results.Text("forbidden", statusCode: 403);
        });
    }, certificate: certificate);

    /// <summary>Echoes whole messages until the client closes, then answers its close with the same code.</summary>
    public static async Task EchoAsync(WebSocket ws)
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        while (true)
        {
            ValueWebSocketReceiveResult r;
            try
            {
                r = await ws.ReceiveAsync(buffer.AsMemory(), default);
            }
            catch (WebSocketException)
            {
                return;
            }
            if (r.MessageType == WebSocketMessageType.Close)
            {
                if (ws.State == WebSocketState.CloseReceived)
                    await ws.CloseOutputAsync(ws.CloseStatus ?? WebSocketCloseStatus.NormalClosure, ws.CloseStatusDescription, default);
                return;
            }
            message.Write(buffer, 0, r.Count);
            if (!r.EndOfMessage) continue;
            await ws.SendAsync(message.ToArray(), r.MessageType, true, default);
            message.SetLength(0);
        }
    }

    /// <summary>A scripted websocket server: answers the handshake (optionally with extra bytes right behind it), then runs <paramref name="script"/>.</summary>
    public static RawServer Raw(Func<RawWs, Task> script, string extraHeaders = "", byte[]? afterHead = null, string? status = null) =>
        new(async c =>
        {
            var request = await c.ReadRequestAsync();
            if (request is null) return;
            if (status is not null && !status.StartsWith("101"))
            {
                await c.WriteAsync($"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                await c.WaitForCloseAsync();
                return;
            }
            var key = request.Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))[18..].Trim();
            var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
            var head = $"HTTP/1.1 {status ?? "101 Switching Protocols"}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{extraHeaders}\r\n";
            var bytes = Encoding.Latin1.GetBytes(head);
            if (afterHead is not null) bytes = bytes.Concat(afterHead).ToArray();
            await c.WriteAsync(bytes);
            await script(new RawWs(c.Socket, request));
            await c.WaitForCloseAsync();
        });

    /// <summary>An unmasked server frame.</summary>
    public static byte[] Frame(WsMsgType opcode, ReadOnlySpan<byte> payload, bool fin = true, bool rsv1 = false)
    {
        var dest = new byte[WsFrameWriter.MaxHeaderSize + payload.Length];
        var n = WsFrameWriter.WriteFrame(dest, fin, rsv1, opcode, payload, default);
        return dest[..n];
    }

    public static byte[] Text(string s) => Frame(WsMsgType.Text, Encoding.UTF8.GetBytes(s));

    public static byte[] CloseFrame(int code, string reason = "") => Frame(WsMsgType.Close, WsFrameWriter.BuildClosePayload(code, reason));

    /// <summary>The python3 that has the Debian websocket packages (the Debian one, not a pyenv shim).</summary>
    public static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Runs a Python websocket server script on a free loopback port and waits until it listens.</summary>
    public static async Task<PythonServer> StartPythonAsync(string script)
    {
        var dir = Directory.CreateTempSubdirectory("rxhttp-ws-");
        var path = Path.Combine(dir.FullName, "server.py");
        await File.WriteAllTextAsync(path, script);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var psi = new ProcessStartInfo(Python, $"{path} {port}") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        var process = Process.Start(psi)!;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (process.HasExited) Assert.Fail($"python server exited: {stderr}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException)
            {
                if (DateTime.UtcNow > deadline) Assert.Fail($"python server did not listen: {stderr}");
                await Task.Delay(50);
            }
        }
        return new PythonServer(process, port, dir);
    }

    public sealed class PythonServer(Process process, int port, DirectoryInfo dir) : IDisposable
    {
        public int Port => port;
        public string Url(string path = "/") => $"ws://127.0.0.1:{port}{path}";

        public void Dispose()
        {
            try { process.Kill(); process.WaitForExit(5000); } catch { /* gone */ }
            process.Dispose();
            try { dir.Delete(true); } catch { /* best effort */ }
        }
    }
}

/// <summary>The server side of a scripted websocket connection.</summary>
internal sealed class RawWs(Socket socket, string request)
{
    public string Request => request;

    public Task SendAsync(byte[] bytes) => socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>Closes the TCP connection without a CLOSE frame.</summary>
    public void Drop() => socket.Shutdown(SocketShutdown.Both);

    /// <summary>Reads one client frame (unmasked); null at EOF.</summary>
    public async Task<(bool Fin, WsMsgType Opcode, byte[] Payload, bool Masked)?> ReadFrameAsync()
    {
        var head = await ReadExactAsync(2);
        if (head is null) return null;
        var masked = (head[1] & 0x80) != 0;
        long len = head[1] & 0x7F;
        if (len == 126) len = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactAsync(2));
        else if (len == 127) len = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactAsync(8));
        var key = masked ? await ReadExactAsync(4) : null;
        var payload = len == 0 ? Array.Empty<byte>() : (await ReadExactAsync((int)len))!;
        if (key is not null) WsMask.Apply(payload, key);
        return ((head[0] & 0x80) != 0, (WsMsgType)(head[0] & 0x0F), payload, masked);
    }

    /// <summary>Reads frames until EOF; returns them.</summary>
    public async Task<List<(bool Fin, WsMsgType Opcode, byte[] Payload, bool Masked)>> ReadUntilEofAsync()
    {
        var frames = new List<(bool, WsMsgType, byte[], bool)>();
        try
        {
            while (await ReadFrameAsync() is { } f) frames.Add(f);
        }
        catch (SocketException) { }
        return frames;
    }

    /// <summary>Reads frames until the client's CLOSE, answers it with the same payload (a well-behaved peer), then waits for EOF.</summary>
    public async Task EchoCloseAsync(Func<(bool Fin, WsMsgType Opcode, byte[] Payload, bool Masked), Task>? onFrame = null)
    {
        try
        {
            while (await ReadFrameAsync() is { } f)
            {
                if (onFrame is not null) await onFrame(f);
                if (f.Opcode != WsMsgType.Close) continue;
                await SendAsync(WsServers.Frame(WsMsgType.Close, f.Payload));
                await ReadUntilEofAsync();
                return;
            }
        }
        catch (SocketException) { }
    }

    private async Task<byte[]?> ReadExactAsync(int n)
    {
        var buf = new byte[n];
        var got = 0;
        while (got < n)
        {
            var r = await socket.ReceiveAsync(buf.AsMemory(got), SocketFlags.None);
            if (r == 0) return null;
            got += r;
        }
        return buf;
    }
}
