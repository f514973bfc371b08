using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RxHttp.Tests.Support;

/// <summary>
/// A real Kestrel server on 127.0.0.1:0 with the endpoints the tests share. Counts accepted connections, so
/// keep-alive reuse is proven on the server side.
/// </summary>
public sealed class KestrelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _connections;
    private int _openConnections;

    private KestrelServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";
    public int Port { get; private set; }
    public int ConnectionCount => Volatile.Read(ref _connections);
    public int OpenConnections => Volatile.Read(ref _openConnections);
    public X509Certificate2? Certificate { get; private set; }

    public static async Task<KestrelServer> StartAsync(Action<WebApplication>? extraRoutes = null, X509Certificate2? certificate = null,
        string? unixSocket = null, Action<KestrelServerOptions>? configure = null, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        KestrelServer? server = null;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AllowSynchronousIO = true;
            k.Limits.MaxRequestBodySize = null;
            configure?.Invoke(k);
            void Count(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions lo) => lo.Use(next => async ctx =>
            {
                Interlocked.Increment(ref server!._connections);
                Interlocked.Increment(ref server._openConnections);
                try { await next(ctx); }
                finally { Interlocked.Decrement(ref server._openConnections); }
            });
            if (unixSocket is not null) k.ListenUnixSocket(unixSocket, Count);
            else
                k.Listen(IPAddress.Loopback, port, lo =>
                {
                    Count(lo);
                    if (certificate is not null) lo.UseHttps(certificate);
                });
        });
        builder.Services.AddRouting();
        var app = builder.Build();
        server = new KestrelServer(app) { Certificate = certificate };
        MapDefaults(app);
        extraRoutes?.Invoke(app);
        await app.StartAsync();
        if (unixSocket is null)
        {
            var address = app.Urls.First();
            server.Port = new Uri(address).Port;
            server.BaseUrl = $"{(certificate is null ? "http" : "https")}://127.0.0.1:{server.Port}/";
        }
        else server.BaseUrl = "http://localhost/";
        return server;
    }

    public string Url(string path) => BaseUrl + path.TrimStart('/');

    public async ValueTask DisposeAsync()
    {
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }

    public const string Hello = "Hello, world!";

    private static void MapDefaults(WebApplication app)
    {
        app.MapMethods("/hello", new[] { "GET", "HEAD" }, () => Results.Text(Hello, "text/plain"));
        app.MapGet("/conn", (HttpContext c) => c.Connection.Id);
        app.Map("/echo", async (HttpContext c) =>
        {
            using var ms = new MemoryStream();
            await c.Request.Body.CopyToAsync(ms);
            var body = ms.ToArray();
            var result = new
            {
                method = c.Request.Method,
                path = c.Request.Path.Value,
                query = c.Request.QueryString.Value,
                headers = c.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body = Encoding.UTF8.GetString(body),
                bodyLength = body.Length,
                sha256 = Convert.ToHexString(SHA256.HashData(body)),
            };
            if (c.Request.Method == "HEAD") return;
            c.Response.ContentType = "application/json";
            await c.Response.WriteAsync(JsonSerializer.Serialize(result));
        });
        app.MapGet("/bytes/{n:long}", async (HttpContext c, long n) =>
        {
            c.Response.ContentLength = n;
            c.Response.ContentType = "application/octet-stream";
            var buf = Pattern(64 * 1024);
            for (long sent = 0; sent < n;)
            {
                var k = (int)Math.Min(buf.Length, n - sent);
                await c.Response.Body.WriteAsync(buf.AsMemory(0, k));
                sent += k;
            }
        });
        app.MapGet("/chunked/{count:int}", async (HttpContext c, int count) =>
        {
            c.Response.ContentType = "text/plain";
            for (var i = 0; i < count; i++)
            {
                await c.Response.WriteAsync($"chunk{i};");
                await c.Response.Body.FlushAsync();
            }
        });
        app.Map("/status/{code:int}", (int code) => Results.Text($"status {code}", "text/plain", statusCode: code));
        app.MapGet("/json", () => Results.Json(new { name = "rx", value = 42, list = new[] { 1, 2, 3 } }));
        app.MapGet("/latin1", (HttpContext c) =>
        {
            c.Response.ContentType = "text/plain; charset=iso-8859-1";
            return c.Response.Body.WriteAsync(Encoding.Latin1.GetBytes("caf\u00e9")).AsTask();
        });
        app.MapGet("/compressed/{kind}", async (HttpContext c, string kind) =>
        {
            var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("compress me please ", 500)));
            using var ms = new MemoryStream();
            Stream z = kind switch
            {
                "gzip" => new GZipStream(ms, CompressionLevel.Fastest, true),
                "deflate" => new ZLibStream(ms, CompressionLevel.Fastest, true),
                "rawdeflate" => new DeflateStream(ms, CompressionLevel.Fastest, true),
                "br" => new BrotliStream(ms, CompressionLevel.Fastest, true),
                _ => throw new ArgumentException(kind),
            };
            z.Write(data);
            z.Dispose();
            c.Response.Headers.ContentEncoding = kind == "rawdeflate" ? "deflate" : kind;
            c.Response.ContentType = "text/plain";
            await c.Response.Body.WriteAsync(ms.ToArray());
        });
        app.MapGet("/redirect/{n:int}", (int n) => n <= 0 ? Results.Text("done") : Results.Redirect($"/redirect/{n - 1}"));
        app.MapGet("/never", async (HttpContext c) => await Task.Delay(Timeout.Infinite, c.RequestAborted));
        // Small flushed lines until the client leaves: a body that cannot end before the client stops reading.
        app.MapGet("/endless", async (HttpContext c) =>
        {
            c.Response.ContentType = "text/plain";
            try
            {
                for (var i = 0; !c.RequestAborted.IsCancellationRequested; i++)
                {
                    await c.Response.WriteAsync($"line {i}\n", c.RequestAborted);
                    // Once the client is gone the flush completes at once: without this check the loop would spin.
                    if ((await c.Response.BodyWriter.FlushAsync(c.RequestAborted)).IsCompleted) break;
                }
            }
            catch (OperationCanceledException)
            {
                // The client closed.
            }
        });
        app.MapGet("/close", (HttpContext c) =>
        {
            c.Response.Headers.Connection = "close";
            return Results.Text("bye");
        });
    }

    public static byte[] Pattern(int n)
    {
        var b = new byte[n];
        for (var i = 0; i < n; i++) b[i] = (byte)(i * 31 + 7);
        return b;
    }

    /// <summary>A self-signed certificate for 127.0.0.1 and localhost, made in the test.</summary>
    public static X509Certificate2 MakeCertificate(string cn = "localhost", X509Certificate2? issuer = null, bool isCa = false,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddDnsName(cn);
        san.AddIpAddress(IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, false, 0, isCa));
        if (!isCa) req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new("1.3.6.1.5.5.7.3.1") }, false));
        else req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        X509Certificate2 cert;
        if (issuer is null) cert = req.CreateSelfSigned(notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30));
        else
        {
            var serial = RandomNumberGenerator.GetBytes(8);
            // Never past the issuer's end: an intermediate made a second earlier would otherwise end before its leaf.
            var end = notAfter ?? DateTimeOffset.UtcNow.AddDays(29);
            if (end > issuer.NotAfter) end = issuer.NotAfter;
            using var pub = req.Create(issuer, notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), end, serial);
            cert = pub.CopyWithPrivateKey(key);
        }
        // Kestrel on Linux needs an exportable key loaded from PKCS#12.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null, X509KeyStorageFlags.Exportable);
    }
}
