using System.Net.Sockets;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Http1;

/// <summary>
/// A body source may fail with a <see cref="ClientOSError"/> of its own: a generator that fetches its chunks with a
/// request of its own, which could not connect (<see cref="ClientConnectorError"/>). That error was taken for a failed
/// write to the connection, after which the exchange looks for an answer the server sent early; but this server is
/// still waiting for the rest of the body, so the request waited until a timeout (Total, 300 s by default) and reported
/// that instead. The same went for such an error, or the source's own cancellation, in a body the 100 Continue wait
/// started. aiohttp's <c>write_bytes</c> hands any body failure to the response at once.
/// </summary>
[TestFixture]
public class BodySourceErrorTests
{
    // Reads the head and whatever body comes, never answers; done once the client closes.
    private static RawServer Silent(TaskCompletionSource closed) => new(async c =>
    {
        var buffer = new byte[65536];
        try
        {
            while (await c.Socket.ReceiveAsync(buffer, SocketFlags.None) > 0) { }
        }
        catch (SocketException)
        {
        }
        closed.TrySetResult();
    });

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> FailingAfterOneChunk(Exception error)
    {
        yield return "first"u8.ToArray();
        await Task.Yield();
        throw error;
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    public async Task A_client_os_error_of_the_body_source_fails_the_request_with_it(bool expect100, bool framedByLength)
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = Silent(closed);
        using var session = new ClientSession(new ClientSessionOptions { Expect100Timeout = TimeSpan.FromMilliseconds(20) });
        var mine = new ClientConnectorError("upstream.invalid", 443, "the source's own request could not connect");
        var options = new RequestOptions
        {
            Data = FailingAfterOneChunk(mine),
            Expect100 = expect100,
            Headers = framedByLength ? new Dictionary<string, string> { ["Content-Length"] = "100" } : null,
        };
        var error = Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Post(server.Url(), options).Timeout(TimeSpan.FromSeconds(20)));
        Assert.That(error, Is.SameAs(mine));
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the connection, with half a body on it, was closed
    }

    [Test]
    public async Task The_body_sources_own_cancellation_in_a_body_the_wait_started_fails_the_request_with_it()
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = Silent(closed);
        using var session = new ClientSession(new ClientSessionOptions { Expect100Timeout = TimeSpan.FromMilliseconds(20) });
        var mine = new OperationCanceledException("the source gave up");
        var options = new RequestOptions { Data = FailingAfterOneChunk(mine), Expect100 = true };
        var error = Assert.CatchAsync<OperationCanceledException>(async () => await session.Post(server.Url(), options).Timeout(TimeSpan.FromSeconds(20)));
        Assert.That(error, Is.SameAs(mine));
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
