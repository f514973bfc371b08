using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A connection's write buffer is rented from the shared array pool. It goes back only when nobody can be writing
/// into it: a close by anyone but the lease's own code (an abort from a timer or another thread, the session
/// closing) or one while a body goes out in the background (after the 100 Continue wait ran out) may meet a writer
/// between taking the buffer's span and filling it, and a returned array would then be written into after another
/// connection rented it. Such closes leave the buffer to the GC, as they do the read buffer.
/// </summary>
[TestFixture]
public class WriteBufferOwnershipTests
{
    private static async Task<Connection> LeaseAsync(ClientSession session, RawServer server) =>
        await session.Connector.Connect(new ConnectionKey("127.0.0.1", server.Port, false)).FirstAsync().Timeout(TimeSpan.FromSeconds(20));

    [Test]
    public async Task The_leases_own_close_gives_the_write_buffer_back()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        await using var session = new ClientSession();
        var c = await LeaseAsync(session, server);
        Assert.That(c.Writer.HoldsBuffer, Is.True);
        c.Close(owned: true);
        Assert.That(c.Writer.HoldsBuffer, Is.False);
    }

    [Test]
    public async Task An_abort_from_elsewhere_leaves_the_write_buffer_to_the_GC()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        await using var session = new ClientSession();
        var c = await LeaseAsync(session, server);
        c.Abort(new TimeoutException("a timer fired"));
        Assert.That(c.Closed, Is.True);
        Assert.That(c.Writer.HoldsBuffer, Is.True, "a writer may be filling it on another thread");
        Assert.That(session.Connector.CurrentState.InUse, Is.Zero);
    }

    [Test]
    public async Task A_body_going_out_in_the_background_keeps_the_write_buffer_past_the_exchanges_close()
    {
        await using var server = RawServer.Respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        await using var session = new ClientSession();
        var writing = await LeaseAsync(session, server);
        writing.BeginBackgroundWrite();
        writing.Close(owned: true);
        Assert.That(writing.Writer.HoldsBuffer, Is.True);

        var ended = await LeaseAsync(session, server);
        ended.BeginBackgroundWrite();
        ended.EndBackgroundWrite();
        ended.Close(owned: true);
        Assert.That(ended.Writer.HoldsBuffer, Is.False, "once the body ended, the buffer is the exchange's to give back");
    }
}
