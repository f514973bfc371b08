// A namespace of its own, as SearchOverFakeHttpTests: RxHttp.Tests.Samples has names of its own.
namespace RxHttp.Tests.Samples.Tui;

using System.Collections.Concurrent;
using NUnit.Framework;
using RxHttp.Samples;
using RxHttp.Samples.Tui;
using RxHttp.Tests.Support;

/// <summary>The UI sample's live feed against the real demo server, which goes away and comes back.</summary>
[NonParallelizable]
public class LiveFeedOverDemoServerTests
{
    [Test]
    public async Task The_ticks_feed_goes_on_when_the_server_restarts_and_disposing_it_closes_the_socket()
    {
        var server = await DemoServer.StartAsync();
        var port = new Uri(server.BaseUrl).Port;
        await using var session = new ClientSession(server.BaseUrl);
        var api = new DemoApi(session, Path.GetTempPath());
        var received = new ConcurrentQueue<string>();
        Exception? error = null;
        var completed = false;
        var feed = api.Ticks(server.WsUrl("ticks?interval=50"), maxDelay: TimeSpan.FromMilliseconds(500))
            .Subscribe(received.Enqueue, e => error = e, () => completed = true);
        try
        {
            await Wait.Until(() => received.Count >= 2, what: "ticks from the first server");
            await server.DisposeAsync();
            server = await DemoServer.StartAsync(port);
            // The restarted server counts from 1 again: a second "tick 1" is the new connection's first message.
            await Wait.Until(() => received.Count(m => m.StartsWith("tick 1 ", StringComparison.Ordinal)) == 2 || error is not null || completed,
                seconds: 20, what: "ticks from the restarted server");
            Assert.That(error, Is.Null, "a restart is not the end of the feed");
            Assert.That(completed, Is.False);
            Assert.That(received.Count(m => m.StartsWith("tick 1 ", StringComparison.Ordinal)), Is.EqualTo(2));
        }
        finally
        {
            feed.Dispose();
        }
        await Wait.Until(() => session.Connector.CurrentState.Open == 0, what: "the websocket's connection closed, not pooled");
        await server.DisposeAsync();
    }
}
