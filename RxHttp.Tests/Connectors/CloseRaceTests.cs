using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A leased connection closed from another thread while its reader is mid-body: the session closing, or the user
/// releasing the response. The reader must fail with the close's typed error, never with whatever an emptied read
/// buffer throws, and nothing may stay open. Each case runs many times with the close landing at random points.
/// </summary>
[TestFixture]
public class CloseRaceTests : KestrelFixture
{
    public enum Reader { Content, BorrowedContent, Stream }

    // Small flushed chunks until the client closes: the reader alternates between socket reads and parsing what is
    // buffered, and the body cannot end before the close lands.
    private string SlowBody => Server.Url("endless");

    private static IObservable<int> Read(ClientResponse r, Reader how) => how switch
    {
        Reader.Content => r.Content.Select(c => c.Length),
        Reader.BorrowedContent => r.BorrowedContent.Select(c => c.Length),
        _ => Observable.Create<int>(async (o, ct) =>
        {
            await using var s = r.GetStream();
            var buffer = new byte[4096];
            int n;
            while ((n = await s.ReadAsync(buffer, ct)) > 0) o.OnNext(n);
            o.OnCompleted();
        }),
    };

    // Reads the body until the first chunk arrived, closes from a pool thread after a random spin, returns the outcome.
    private static async Task<Exception?> CloseMidBody(ClientResponse r, Reader how, Action close, Random random)
    {
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var end = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = Read(r, how).Subscribe(_ => first.TrySetResult(), e => end.TrySetResult(e), () => end.TrySetResult(null));
        await first.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var spin = random.Next(0, 100_000);
        await Task.Run(() =>
        {
            Thread.SpinWait(spin);
            close();
        });
        return await end.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Closing_the_session_mid_body_fails_the_read_with_ConnectorIsClosed([Values] Reader how)
    {
        var random = new Random(7);
        var outcomes = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var session = new ClientSession();
            var r = await session.Get(SlowBody);
            var error = await CloseMidBody(r, how, session.Dispose, random);
            outcomes.Add(error is null ? "completed" : $"{error.GetType().Name}: {error.Message}");
        }
        // Before connections were aborted with the reason, some reads met an emptied buffer (ArgumentOutOfRangeException)
        // and the rest a generic ServerDisconnectedError or ClientPayloadError.
        Assert.That(outcomes, Is.All.EqualTo("ClientConnectionError: Connector is closed."));
        await Wait.Until(() => Server.OpenConnections == 0, what: "every socket to close");
    }

    [Test]
    public async Task Releasing_the_response_mid_body_fails_the_read_with_a_ClientPayloadError([Values] Reader how)
    {
        var random = new Random(11);
        using var session = new ClientSession();
        var errors = new List<Exception?>();
        for (var i = 0; i < 30; i++)
        {
            var r = await session.Get(SlowBody);
            errors.Add(await CloseMidBody(r, how, r.Release, random));
        }
        Assert.That(errors, Is.All.InstanceOf<ClientPayloadError>());
        await Wait.Until(() => Server.OpenConnections == 0, what: "every socket to close");
        Assert.That(session.Connector.CurrentState.InUse, Is.Zero);
    }

    [Test]
    public async Task Closing_the_session_fails_a_request_waiting_for_its_head_with_ConnectorIsClosed()
    {
        var session = new ClientSession();
        var end = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = session.Get(Server.Url("never")).Subscribe(_ => { }, e => end.TrySetResult(e));
        await Wait.Until(() => session.Connector.CurrentState.InUse == 1, what: "the request to lease its connection");
        session.Dispose();
        var error = await end.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(error, Is.TypeOf<ClientConnectionError>().With.Message.EqualTo("Connector is closed."));
    }
}
