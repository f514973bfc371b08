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
}
