using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Contract;

/// <summary>
/// EventSourceOptions.States hears Connecting, Open and Waiting from the stream's threads and Closed from the one
/// disposing: one call at a time, and nothing after its end.
/// </summary>
public class EventSourceStatesContractTests
{
    [Test]
    public async Task Disposing_from_another_thread_while_a_state_is_delivered_does_not_overlap_it()
    {
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata: \r\n");
            await c.WaitForCloseAsync();
        });
        using var session = new ClientSession();
        IDisposable? subscription = null;
        var subscribed = new ManualResetEventSlim();
        var states = new ContractObserver<EventSourceState>(s =>
        {
            // The stream's thread is inside OnNext(Open): the subscriber leaves from another thread now.
            if (s == EventSourceState.Open) Task.Run(() => { subscribed.Wait(); subscription!.Dispose(); }).Wait();
        });
        subscription = session.EventSource(server.Url("/sse"), new EventSourceOptions { States = states }).Subscribe(_ => { }, _ => { });
        subscribed.Set();
        await Wait.Until(() => states.Terminated, what: "the states to end");
        Assert.That(states.Violations, Is.Empty);
    }
}
