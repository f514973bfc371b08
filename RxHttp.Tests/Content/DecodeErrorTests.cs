using System.IO.Compression;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// A body that is not valid in its Content-Encoding ends in <see cref="ClientPayloadError"/> whatever the decoder throws:
/// Brotli throws InvalidOperationException and zlib a ZLibException (an IOException) on some inputs, which used to
/// reach the caller as they were. The inputs are the fuzz run's findings (Fuzz/Regressions).
/// </summary>
[TestFixture]
public class DecodeErrorTests
{
    [TestCase("br", "invalid-data-invalidoperation-1.bin")]
    [TestCase("br", "invalid-data-invalidoperation-2.bin")]
    [TestCase("deflate", "zlibexception.bin")]
    public async Task A_corrupt_body_fails_with_ClientPayloadError(string coding, string file)
    {
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzz", "Regressions", coding, file));
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
                await c.WriteAsync(Encoding.Latin1.GetBytes($"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray());
        });
        using var session = new ClientSession();
        var error = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get(server.Url()).SelectMany(r => r.Read()));
        Assert.That(error!.Message, Does.StartWith($"Cannot decode the '{coding}' body"));
        var streamed = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get(server.Url()).SelectMany(r => r.Content).ToList());
        Assert.That(streamed!.InnerException, Is.Not.InstanceOf<ClientError>());
    }

    // A deflate, br or gzip body cut short inside a complete framing (Content-Length right, or a chunked body closed by
    // a server that died mid-stream) read as a shorter, complete body: the decoders return 0 when their input ends
    // early. aiohttp raises ContentEncodingError for deflate; an empty body stays an empty body, as there. The gzip
    // cut falls in the member's trailer, after all the text was decoded.
    [TestCase("deflate", "zlib")]
    [TestCase("deflate", "raw")]
    [TestCase("br", "br")]
    [TestCase("gzip", "gzip")]
    [TestCase("x-gzip", "gzip")]
    public async Task A_body_cut_inside_its_compressed_stream_fails_with_ClientPayloadError(string coding, string format)
    {
        var original = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("truncated deflate ", 500)));
        var whole = Compress(format, original);
        var bodies = new Dictionary<string, byte[]> { ["/whole"] = whole, ["/cut"] = whole[..^6], ["/empty"] = [] };
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
            {
                var body = bodies[request.Split(' ')[1]];
                await c.WriteAsync(Encoding.Latin1.GetBytes($"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray());
            }
        });
        using var session = new ClientSession();
        Assert.That(await session.Get(server.Url("/whole")).SelectMany(r => r.Read()), Is.EqualTo(original));
        Assert.That(await session.Get(server.Url("/empty")).SelectMany(r => r.Read()), Is.Empty);
        var error = Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get(server.Url("/cut")).SelectMany(r => r.Read()));
        Assert.That(error!.Message, Does.StartWith($"Cannot decode the '{coding}' body").And.Contain("truncated"));
        Assert.ThrowsAsync<ClientPayloadError>(async () => await session.Get(server.Url("/cut")).SelectMany(r => r.Content).ToList());
    }

    private static byte[] Compress(string format, byte[] data)
    {
        using var ms = new MemoryStream();
        using (Stream z = format switch
        {
            "zlib" => new ZLibStream(ms, CompressionLevel.Optimal, true),
            "raw" => new DeflateStream(ms, CompressionLevel.Optimal, true),
            "gzip" => new GZipStream(ms, CompressionLevel.Optimal, true),
            _ => new BrotliStream(ms, CompressionLevel.Optimal, true),
        }) z.Write(data);
        return ms.ToArray();
    }
}
