using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// Subscribing to a streaming read returns in bounded time even when every read completes at once (a body already at
/// hand, or a server faster than the reader): otherwise Subscribe would run the whole body, an endless one forever,
/// and the subscriber could never dispose.
/// </summary>
[TestFixture]
public class StreamingSubscribeTests
{
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private async Task<ClientResponse> Cached(ClientSession session, int bytes)
    {
        var r = await session.Get(_server.Url($"bytes/{bytes}"));
        await r.Read(); // every later Content/Lines read replays the cached body synchronously
        return r;
    }

    private static async Task AssertSubscribeReturnsEarly<T>(IObservable<T> source, int total)
    {
        var seen = 0;
        // Counted on the subscribing thread while Subscribe runs: after the loop yields, the next items come from the
        // thread pool and may already arrive before Subscribe's caller looks, so "seen at return" would race.
        var subscribing = Environment.CurrentManagedThreadId;
        var inside = 1;
        var seenInside = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = source.Subscribe(
            _ =>
            {
                if (Volatile.Read(ref inside) == 1 && Environment.CurrentManagedThreadId == subscribing) seenInside++;
                Interlocked.Increment(ref seen);
            },
            e => done.TrySetException(e), () => done.TrySetResult());
        Volatile.Write(ref inside, 0);
        Assert.That(seenInside, Is.EqualTo(StreamingObservable.Checkpoint.ItemsInsideSubscribe), "items delivered inside Subscribe");
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(seen, Is.EqualTo(total), "every item still arrives after Subscribe returned");
    }

    [Test]
    public async Task Content_of_a_body_at_hand_returns_from_Subscribe_after_a_bounded_number_of_chunks()
    {
        using var session = new ClientSession();
        using var r = await Cached(session, 40 * 64 * 1024);
        await AssertSubscribeReturnsEarly(r.Content, total: 40);
    }

    [Test]
    public async Task Lines_of_a_body_at_hand_return_from_Subscribe_after_a_bounded_number_of_lines()
    {
        using var session = new ClientSession();
        using var r = await Cached(session, 256 * 1024);
        var body = await r.Read();
        var lines = body.Count(b => b == (byte)'\n') + (body[^1] == (byte)'\n' ? 0 : 1);
        Assert.That(lines, Is.GreaterThan(StreamingObservable.Checkpoint.ItemsInsideSubscribe));
        await AssertSubscribeReturnsEarly(r.Lines(System.Text.Encoding.Latin1), total: lines); // a binary pattern: not UTF-8
    }
}
