#if DEBUG
using System.Diagnostics;
using System.Reactive.Linq;
using NUnit.Framework;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// The Debug build's invariants on the pool and the connection do fire (./test.sh -c Debug): a listener that throws
/// on Debug.Fail turns the assert into an exception the test can see, where the default listener would end the
/// process. Only in a Debug build, where the asserts exist.
/// </summary>
[TestFixture]
[NonParallelizable] // the listener is process-wide
public class DebugInvariantTests
{
    private sealed class AssertFailed(string? message) : Exception(message);

    private sealed class ThrowingListener : TraceListener
    {
        public override void Fail(string? message, string? detailMessage) => throw new AssertFailed(message);
        public override void Write(string? message) { }
        public override void WriteLine(string? message) { }
    }

    private ThrowingListener _listener = null!;

    [SetUp]
    public void Listen()
    {
        _listener = new ThrowingListener();
        Trace.Listeners.Insert(0, _listener);
    }

    [TearDown]
    public void Stop() => Trace.Listeners.Remove(_listener);

    private static readonly ConnectionKey A = new("a.test", 80, false);

    [Test]
    public async Task A_connection_handed_back_to_the_pool_twice_fails_an_assert()
    {
        using var pool = new LoopbackConnector(new ConnectorOptions());
        var c = await pool.Connect(A).FirstAsync();
        c.Release();
        Assert.That(pool.CurrentState.Idle, Is.EqualTo(1));
        Assert.That(() => pool.OnRelease(c), Throws.TypeOf<AssertFailed>().With.Message.Contains("released twice"));
    }

    [Test]
    public async Task A_second_read_while_one_is_in_flight_fails_an_assert()
    {
        using var pool = new LoopbackConnector(new ConnectorOptions());
        var c = await pool.Connect(A).FirstAsync();
        var first = c.FillAsync(null, CancellationToken.None); // the server says nothing: stays in flight
        Assert.That(first.IsCompleted, Is.False);
        Assert.That(async () => await c.FillAsync(null, CancellationToken.None), Throws.TypeOf<AssertFailed>().With.Message.Contains("two reads at once"));
        c.Close();
        try { await first; } catch (ClientError) { /* the close ends the first read, with EOF or an error */ }
    }
}
#endif
