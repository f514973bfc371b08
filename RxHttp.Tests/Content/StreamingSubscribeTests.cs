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

    [Test]
    public async Task At_the_bound_the_loop_itself_moves_to_the_pool_and_nothing_completes_that_would_let_it_go_on_inline()
    {
        // CI once saw all 40 chunks delivered inside Subscribe: the hop was an async method awaited by the loop, and a
        // pool thread finished it before the loop looked, so the loop went on inline. The hop must be the loop's own
        // continuation, with no completion of its own for the loop to find.
        var checkpoint = new StreamingObservable.Checkpoint();
        for (var i = 1; i < StreamingObservable.Checkpoint.ItemsInsideSubscribe; i++)
            Assert.That(checkpoint.AfterItem().GetAwaiter().IsCompleted, Is.True, $"item {i} goes on at once");
        var awaiter = checkpoint.AfterItem().GetAwaiter();
        Assert.That(awaiter.IsCompleted, Is.False, "the item at the bound yields");
        var ran = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        awaiter.UnsafeOnCompleted(() => ran.TrySetResult(Thread.CurrentThread.IsThreadPoolThread));
        Assert.That(await ran.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.True, "the continuation runs on the pool");
        Assert.That(awaiter.IsCompleted, Is.False, "after the hop ran, a loop checking it would still have to wait for it");
        Assert.That(checkpoint.AfterItem().GetAwaiter().IsCompleted, Is.True, "it yields once, not per bound");
    }

    [Test]
    public void Once_Subscribe_has_returned_no_item_yields()
    {
        var checkpoint = new StreamingObservable.Checkpoint { Returned = true };
        for (var i = 1; i <= 2 * StreamingObservable.Checkpoint.ItemsInsideSubscribe; i++)
            Assert.That(checkpoint.AfterItem().GetAwaiter().IsCompleted, Is.True, $"item {i}");
    }
}
