using System.IO.Compression;
using System.Reactive.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>A real Kestrel with the body routes (a hashing sink, ASP.NET's form reader, refusals) and the helpers to post to it.</summary>
public abstract class BodyEndToEndBase
{
    private protected KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(MapRoutes);

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    public sealed record Sink(long Length, string Sha256, string? ContentLength, string? TransferEncoding, string? ContentType, string? ContentEncoding, string? Expect);
    public sealed record FormFileInfo(string Name, string FileName, string ContentType, long Length, string Sha256);
    public sealed record FormResult(string ContentType, Dictionary<string, string[]> Fields, FormFileInfo[] Files);

    private protected static string Sha(byte[] b) => Convert.ToHexString(SHA256.HashData(b));

    private static void MapRoutes(WebApplication app)
    {
        // Hashes the body as it streams and keeps nothing, so a 1 GiB upload costs the server no memory.
        app.MapPost("/sink", async (HttpContext c) =>
        {
            Stream body = c.Request.Body;
            var encoding = c.Request.Headers.ContentEncoding.ToString();
            if (c.Request.Path.Value == "/sink" && c.Request.Query.ContainsKey("decompress"))
                body = encoding switch
                {
                    "gzip" => new GZipStream(body, CompressionMode.Decompress),
                    "br" => new BrotliStream(body, CompressionMode.Decompress),
                    "deflate" => new ZLibStream(body, CompressionMode.Decompress),
                    _ => body,
                };
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int n;
            while ((n = await body.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                total += n;
            }
            var h = c.Request.Headers;
            return Results.Json(new Sink(total, Convert.ToHexString(hash.GetHashAndReset()), h.ContentLength.ToString().NullIfEmpty(),
                h.TransferEncoding.ToString().NullIfEmpty(), h.ContentType.ToString().NullIfEmpty(), encoding.NullIfEmpty(), h.Expect.ToString().NullIfEmpty()));
        });
        app.MapPost("/form", async (HttpContext c) =>
        {
            var form = await c.Request.ReadFormAsync();
            var files = new List<FormFileInfo>();
            foreach (var f in form.Files)
            {
                using var ms = new MemoryStream();
                await f.CopyToAsync(ms);
                files.Add(new FormFileInfo(f.Name, f.FileName, f.ContentType, f.Length, Sha(ms.ToArray())));
            }
            return Results.Json(new FormResult(c.Request.ContentType!, form.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => v ?? "").ToArray()), files.ToArray()));
        });
        // Answers without reading the body: with Expect: 100-continue Kestrel then never sends 100.
        app.MapPost("/refuse/{code:int}", (int code) => Results.Text("refused", statusCode: code));
    }

    private protected async Task<Sink> PostSink(object data, RequestOptions? extra = null, string path = "sink")
    {
        using var session = new ClientSession(_server.BaseUrl);
        var options = extra is null ? new RequestOptions { Data = data } : Copy(extra, data);
        return (await session.Post(path, options).SelectMany(r => r.Json<Sink>()))!;
    }

    private protected static RequestOptions Copy(RequestOptions o, object data) => new()
    {
        Data = data, Compress = o.Compress, Chunked = o.Chunked, Expect100 = o.Expect100, Headers = o.Headers,
        UploadProgress = o.UploadProgress, SkipAutoHeaders = o.SkipAutoHeaders,
    };
}

internal static class StringExtensions
{
    public static string? NullIfEmpty(this string? s) => string.IsNullOrEmpty(s) ? null : s;
}
