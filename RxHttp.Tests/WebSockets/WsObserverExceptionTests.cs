using System.Reactive.Linq;
using System.Runtime.ExceptionServices;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.WebSockets;

/// <summary>
/// An exception a websocket's subscriber throws from its own <c>OnNext</c> is the subscriber's, as Rx has it: out of
/// <c>Subscribe</c> when the value came inside it, else where an exception thrown on the thread pool goes (here caught
/// through the internal hook). It is never taken for the connection's failure, nor left in a task nobody observes.
/// </summary>
[TestFixture]
[NonParallelizable]
public class WsObserverExceptionTests
{
    private KestrelServer _server = null!;
    private string WsUrl(string path) => _server.Url(path).Replace("http://", "ws://");

    [OneTimeSetUp]
    public async Task Start() => _server = await WsServers.StartKestrelAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private sealed class Mine(string message) : Exception(message);


    [Test]
    public async Task A_Messages_subscriber_that_throws_is_unsubscribed_and_the_socket_and_the_others_carry_on()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/echo"));
        var thrower = new List<string>();
        var other = new List<string>();
        var e = await ObserverFaultCapture.Surfaced(async () =>
        {
            ws.Messages.Subscribe(m => { lock (thrower) thrower.Add(m.Text!); throw new Mine("mine"); }, x => { lock (thrower) thrower.Add("OnError " + x.Message); });
            ws.Messages.Subscribe(m => { lock (other) other.Add(m.Text!); }, x => { lock (other) other.Add("OnError " + x.Message); });
            await ws.SendStr("one");
        });
        Assert.That((e.GetType(), e.Message), Is.EqualTo((typeof(Mine), "mine")));
        await ws.SendStr("two");
        await Wait.Until(() => { lock (other) return other.Contains("two"); }, what: "the other subscriber to go on receiving");
        Assert.That((ws.Closed, ws.CloseCode, ws.Exception), Is.EqualTo((false, (int?)null, (Exception?)null)), "one subscriber's bug is not the connection's failure");
        lock (thrower) Assert.That(thrower, Is.EqualTo(new[] { "one" }), "the subscriber that threw is told nothing of its own exception");
        await ws.Close();
        Assert.That(ws.CloseCode, Is.EqualTo(1000));
    }

    [Test]
    public async Task A_Receive_observer_that_throws_after_Subscribe_returned_reaches_the_thread_pool()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/echo"));
        var errors = 0;
        var e = await ObserverFaultCapture.Surfaced(async () =>
        {
            ws.ReceiveStr().Subscribe(_ => throw new Mine("mine"), _ => errors++);
            await ws.SendStr("one");
        });
        Assert.That((e.GetType(), e.Message), Is.EqualTo((typeof(Mine), "mine")));
        Assert.That(errors, Is.Zero);
    }

    [Test]
    public async Task A_Receive_observer_that_throws_inside_Subscribe_throws_out_of_Subscribe()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/echo"));
        var seen = new List<string>();
        using var watch = ws.Messages.Subscribe(m => { lock (seen) seen.Add(m.Text!); });
        await ws.SendStr("one");
        Assert.That(await ws.ReceiveStr(), Is.EqualTo("one"));
        await ws.SendStr("two");
        await ws.SendStr("three");
        // The loop queues a message before it reads the next: once "three" is seen, "two" waits in the queue.
        await Wait.Until(() => { lock (seen) return seen.Contains("three"); }, what: "the messages to arrive");
        var e = Assert.Throws<Mine>(() => ws.ReceiveStr().Subscribe(_ => throw new Mine("mine")));
        Assert.That(e!.Message, Is.EqualTo("mine"));
    }

    // A UI observer waits in OnNext for its thread (a synchronous Invoke), which meanwhile subscribes another view to
    // Messages: the subscription must not wait for the delivery in progress, or the two wait for each other for good.
    [Test]
    public async Task Subscribing_to_Messages_while_a_subscriber_waits_in_OnNext_for_that_subscription_does_not_deadlock()
    {
        using var session = new ClientSession();
        await using var ws = await session.WsConnectAsync(WsUrl("ws/echo"));
        var subscribedInTime = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        IDisposable? second = null;
        using var first = ws.Messages.Take(1).Subscribe(_ =>
            subscribedInTime.TrySetResult(Task.Run(() => second = ws.Messages.Subscribe(_ => { })).Wait(TimeSpan.FromSeconds(10))));
        await ws.SendStr("hi");
        Assert.That(await subscribedInTime.Task.WaitAsync(TimeSpan.FromSeconds(30)), Is.True, "the second Subscribe waited for the first's OnNext");
        second?.Dispose();
    }
}
