using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RxHttp.Benchmarks;

/// <summary>The server the workloads talk to. Both clients always hit the same instance in the same run.</summary>
internal interface IBenchServer : IAsyncDisposable
{
    string Name { get; }
    /// <summary>Base URL ending with '/', serving /hello (13 bytes), /big (the download body) and /bigchunked (the same, chunked).</summary>
    string HttpBase { get; }
}

/// <summary>
/// In-process Kestrel on 127.0.0.1:0. One terminal middleware instead of routing, so the server spends as little
/// as possible per request and the client's cost dominates the measurement.
/// </summary>
internal sealed class KestrelBenchServer : IBenchServer
{
    public static readonly byte[] Hello = "Hello, World!"u8.ToArray();
    private static readonly byte[] Block = new byte[1 << 20];

    private readonly WebApplication _app;

    private KestrelBenchServer(WebApplication app, string baseUrl)
    {
        _app = app;
        HttpBase = baseUrl;
    }

    public string Name => "Kestrel (in-process)";
    public string HttpBase { get; }
    public string WsUrl => HttpBase.Replace("http://", "ws://") + "ws";

    public static async Task<KestrelBenchServer> StartAsync(long downloadSize)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Limits.MinRequestBodyDataRate = null;
            k.Limits.MinResponseDataRate = null;
            k.AddServerHeader = true;
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        KestrelBenchServer? server = null;
        app.UseWebSockets();
        app.Run(async ctx =>
        {
            var path = ctx.Request.Path.Value;
            if (path == "/hello")
            {
                ctx.Response.ContentType = "text/plain";
                ctx.Response.ContentLength = Hello.Length;
                await ctx.Response.Body.WriteAsync(Hello);
            }
            else if (path == "/big")
            {
                ctx.Response.ContentType = "application/octet-stream";
                ctx.Response.ContentLength = downloadSize;
                for (long left = downloadSize; left > 0; left -= Block.Length)
                    await ctx.Response.Body.WriteAsync(Block.AsMemory(0, (int)Math.Min(Block.Length, left)));
            }
            else if (path == "/bigchunked")
            {
                // No Content-Length: Kestrel frames each 1 MiB write as one chunk.
                ctx.Response.ContentType = "application/octet-stream";
                for (long left = downloadSize; left > 0; left -= Block.Length)
                    await ctx.Response.Body.WriteAsync(Block.AsMemory(0, (int)Math.Min(Block.Length, left)));
            }
            else if (path == "/json")
            {
                ctx.Response.ContentType = "application/json";
                ctx.Response.ContentLength = ShapeClients.JsonBody.Length;
                await ctx.Response.Body.WriteAsync(ShapeClients.JsonBody);
            }
            else if (path == "/mid")
            {
                ctx.Response.ContentType = "text/plain";
                ctx.Response.ContentLength = ShapeClients.MidSize;
                await ctx.Response.Body.WriteAsync(ShapeClients.MidBody);
            }
            else if (path == "/midchunked")
            {
                ctx.Response.ContentType = "text/plain";
                for (var i = 0; i < ShapeClients.MidSize; i += 64 * 1024)
                    await ctx.Response.Body.WriteAsync(ShapeClients.MidBody.AsMemory(i, 64 * 1024));
            }
            else if (path == "/search")
            {
                // Row 7: every query but the last is held open until its client gives up on it.
                Interlocked.Increment(ref server!._searchesOpen);
                try
                {
                    server._searchArrivals.Release();
                    if (ctx.Request.Query.ContainsKey("last"))
                    {
                        var text = Encoding.ASCII.GetBytes("found " + ctx.Request.Query["q"]);
                        ctx.Response.ContentLength = text.Length;
                        await ctx.Response.Body.WriteAsync(text);
                    }
                    else
                    {
                        try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); }
                        catch (OperationCanceledException) { }
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref server._searchesOpen);
                }
            }
            else if (path == "/upload")
            {
                var buffer = new byte[64 * 1024];
                long total = 0;
                int n;
                while ((n = await ctx.Request.Body.ReadAsync(buffer)) > 0) total += n;
                var text = Encoding.ASCII.GetBytes(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
                ctx.Response.ContentLength = text.Length;
                await ctx.Response.Body.WriteAsync(text);
            }
            else if (path == "/ws" && ctx.WebSockets.IsWebSocketRequest)
            {
                using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
                await EchoAsync(ws, 64 * 1024);
            }
            else ctx.Response.StatusCode = 404;
        });
        await app.StartAsync();
        var port = new Uri(app.Urls.First()).Port;
        return server = new KestrelBenchServer(app, $"http://127.0.0.1:{port}/");
    }

    /// <summary>Echoes every frame back until the client's CLOSE (answered) or until it aborts.</summary>
    public static async Task EchoAsync(WebSocket ws, int bufferSize)
    {
        var buffer = new byte[bufferSize];
        try
        {
            while (true)
            {
                var r = await ws.ReceiveAsync(buffer, CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }
                await ws.SendAsync(buffer.AsMemory(0, r.Count), r.MessageType, r.EndOfMessage, CancellationToken.None);
            }
        }
        catch (WebSocketException) when (ws.State != WebSocketState.Open)
        {
            // The client aborted.
        }
    }

    private readonly SemaphoreSlim _searchArrivals = new(0);
    private int _searchesOpen;

    /// <summary>Completes when the next /search request has reached the server.</summary>
    public Task SearchArrived() => _searchArrivals.WaitAsync();

    /// <summary>/search requests the server is still holding (their clients have not closed them yet).</summary>
    public int SearchesOpen => Volatile.Read(ref _searchesOpen);

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}

/// <summary>
/// nginx (the Debian nginx-light binary) started with a generated config on a free loopback port, serving
/// /hello with <c>return 200</c> and /big from a sparse file through sendfile. Stopped by its own pid.
/// </summary>
internal sealed class NginxBenchServer : IBenchServer
{
    private readonly Process _process;
    private readonly string _dir;

    private NginxBenchServer(Process process, string dir, string baseUrl, string tlsBase)
    {
        _process = process;
        _dir = dir;
        HttpBase = baseUrl;
        TlsBase = tlsBase;
    }

    public string Name => "nginx " + Version();
    public string HttpBase { get; }

    /// <summary>The same locations over TLS 1.3 (a self-signed ECDSA certificate made by openssl; no session resumption).</summary>
    public string TlsBase { get; }

    public static async Task<NginxBenchServer> StartAsync(long downloadSize)
    {
        var binary = new[] { "/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed (apt-get install -y nginx-light).");
        var dir = Directory.CreateTempSubdirectory("rxhttp-bench-nginx-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "www"));
        var big = Path.Combine(dir, "www", "big.bin");
        using (var f = File.Create(big)) f.SetLength(downloadSize); // sparse: no disk I/O
        // Started as root, nginx workers drop to 'nobody'; the temp directory is private by default.
        const UnixFileMode readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                      UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, readable);
            File.SetUnixFileMode(Path.Combine(dir, "www"), readable);
            File.SetUnixFileMode(big, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        await File.WriteAllBytesAsync(Path.Combine(dir, "www", "mid.txt"), ShapeClients.MidBody);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(dir, "www", "mid.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        // The document as an API answers it, not as a static file: served from disk, nginx opened, stat'ed and closed
        // the file per request (and added ETag, Last-Modified and Accept-Ranges), which capped both clients' JSON rows
        // at the same rate (about 44k req/s against 60k now) and hid the client's own cost.
        var json = System.Text.Encoding.UTF8.GetString(ShapeClients.JsonBody);
        if (json.IndexOfAny(['\'', '\\', '$']) >= 0) throw new InvalidOperationException("The JSON body cannot be quoted in nginx.conf.");
        await MakeCertificateAsync(dir);
        var port = FreePort();
        var tlsPort = FreePort();
        // One worker: with two, each connection is served by whichever worker accepted it, and the sequential row's
        // single connection per client made the ratio depend on that draw (we suspect it of part of the swings
        // between runs).
        var conf = $$"""
            daemon off;
            worker_processes 1;
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log error;
            events { worker_connections 4096; }
            http {
              access_log off;
              client_body_temp_path {{dir}}/client_body;
              proxy_temp_path {{dir}}/proxy;
              fastcgi_temp_path {{dir}}/fastcgi;
              uwsgi_temp_path {{dir}}/uwsgi;
              scgi_temp_path {{dir}}/scgi;
              sendfile on;
              tcp_nopush on;
              tcp_nodelay on;
              keepalive_requests 100000000;
              keepalive_timeout 300s;
              server {
                listen 127.0.0.1:{{port}};
                listen 127.0.0.1:{{tlsPort}} ssl;
                ssl_certificate {{dir}}/cert.pem;
                ssl_certificate_key {{dir}}/key.pem;
                ssl_protocols TLSv1.3;
                # Every new connection makes a full handshake (the handshake row), for both clients alike.
                ssl_session_cache off;
                ssl_session_tickets off;
                location = /hello { default_type text/plain; return 200 "Hello, World!"; }
                location = /big { default_type application/octet-stream; alias {{dir}}/www/big.bin; }
                location = /json { default_type application/json; return 200 '{{json}}'; }
                location = /mid { default_type text/plain; alias {{dir}}/www/mid.txt; }
                # SSI drops the length, so nginx sends the same file chunked.
                location = /midchunked { default_type text/html; ssi on; alias {{dir}}/www/mid.txt; }
              }
            }
            """;
        var confPath = Path.Combine(dir, "nginx.conf");
        await File.WriteAllTextAsync(confPath, conf);
        var psi = new ProcessStartInfo(binary, $"-p {dir} -c {confPath} -e {dir}/error.log")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("Cannot start nginx.");
        var server = new NginxBenchServer(process, dir, $"http://127.0.0.1:{port}/", $"https://127.0.0.1:{tlsPort}/");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException("nginx exited: " + await process.StandardError.ReadToEndAsync() + ReadLog(dir));
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static async Task MakeCertificateAsync(string dir)
    {
        var psi = new ProcessStartInfo("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", Path.Combine(dir, "key.pem"), "-out", Path.Combine(dir, "cert.pem"), "-days", "2", "-subj", "/CN=127.0.0.1"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Cannot start openssl.");
        var err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException("openssl failed: " + err);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(dir, "key.pem"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private static string ReadLog(string dir)
    {
        var log = Path.Combine(dir, "error.log");
        return File.Exists(log) ? File.ReadAllText(log) : "";
    }

    private static string Version()
    {
        try
        {
            var p = Process.Start(new ProcessStartInfo("nginx", "-v") { RedirectStandardError = true, UseShellExecute = false })!;
            var v = p.StandardError.ReadToEnd().Trim();
            p.WaitForExit();
            return v.Replace("nginx version: ", "");
        }
        catch (Exception)
        {
            return "";
        }
    }

    internal static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM to the master (by its pid) makes nginx stop its own workers; a kill would orphan them.
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await _process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
