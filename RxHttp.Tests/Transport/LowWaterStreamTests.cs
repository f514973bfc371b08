using System.Net;
using System.Net.Sockets;
using NUnit.Framework;
using RxHttp.Transport;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Transport;

/// <summary>
/// The receive low-water mark a polling connection raises so that responses wake nobody but its own thread: what
/// the kernel then reports, and that every read which may wait lowers it first (else it would wait for bytes that
/// wake nobody). Real loopback sockets; Linux, where the mark is used.
/// </summary>
[TestFixture]
[Platform("Linux")]
public class LowWaterStreamTests
{
    private static async Task<(LowWaterStream Client, Socket Peer)> PairAsync() => await PairWithSocketAsync() is var (c, _, p) ? (c, p) : default;

    private static async Task<(LowWaterStream Client, Socket ClientSocket, Socket Peer)> PairWithSocketAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptSocketAsync();
        await client.ConnectAsync(listener.LocalEndpoint);
        return (new LowWaterStream(client), client, await accept);
    }

    private static int Mark(Socket s) => (int)s.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveLowWater)!;

    [Test]
    public async Task Raised_a_few_bytes_make_the_socket_readable_to_FIONREAD_only_and_a_FIN_to_Poll_too()
    {
        var (client, socket, peer) = await PairWithSocketAsync();
        using var _ = peer;
        await using var __ = client;
        client.Raise();
        Assert.That(client.Raised, Is.True);
        peer.Send("abc"u8);
        await Wait.Until(() => client.Available() == 3, what: "the three bytes to arrive");
        Assert.That(socket.Poll(0, SelectMode.SelectRead), Is.False, "under the mark, bytes wake no poll (and no epoll)");
        peer.Shutdown(SocketShutdown.Send);
        await Wait.Until(() => socket.Poll(0, SelectMode.SelectRead), what: "the FIN to make the socket readable");
    }

    [Test]
    public async Task The_mark_is_at_most_a_quarter_of_the_receive_buffer_which_it_leaves_as_it_was()
    {
        var (client, socket, peer) = await PairWithSocketAsync();
        using var _ = peer;
        await using var __ = client;
        var buffer = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer)!;
        client.Raise();
        Assert.That(Mark(socket), Is.EqualTo(Math.Min(LowWaterStream.MaxMark, buffer / 4)));
        Assert.That(socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer), Is.EqualTo(buffer),
            "a mark over about half the buffer grows it and clamps the receive window to the mark");
    }

    [Test]
    public async Task A_read_with_bytes_there_keeps_the_mark_raised()
    {
        var (client, socket, peer) = await PairWithSocketAsync();
        using var _ = peer;
        await using var __ = client;
        client.Raise();
        peer.Send("hello"u8);
        await Wait.Until(() => client.Available() == 5, what: "the bytes to arrive");
        var buffer = new byte[16];
        Assert.That(await client.ReadAsync(buffer), Is.EqualTo(5));
        Assert.That(client.Raised, Is.True, "nothing to lower: the read took what was there");
        Assert.That(Mark(socket), Is.GreaterThan(1));
    }

    [Test]
    public async Task An_async_read_that_must_wait_lowers_the_mark_and_completes_on_the_next_bytes()
    {
        var (client, socket, peer) = await PairWithSocketAsync();
        using var _ = peer;
        await using var __ = client;
        client.Raise();
        var read = client.ReadAsync(new byte[16]).AsTask();
        Assert.That(client.Raised, Is.False);
        Assert.That(Mark(socket), Is.EqualTo(1));
        peer.Send("xy"u8);
        Assert.That(await read.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(2), "two bytes under a raised mark would wake no read");
    }

    [Test]
    public async Task A_zero_byte_read_that_must_wait_lowers_the_mark_too()
    {
        // A websocket's idle wait, and SslStream's before it rents its buffer.
        var (client, peer) = await PairAsync();
        using var _ = peer;
        await using var __ = client;
        client.Raise();
        var wait = client.ReadAsync(Memory<byte>.Empty).AsTask();
        peer.Send("z"u8);
        Assert.That(await wait.WaitAsync(TimeSpan.FromSeconds(10)), Is.Zero);
        Assert.That(client.Available(), Is.EqualTo(1));
    }

    [Test]
    public async Task A_synchronous_read_that_must_wait_lowers_the_mark_too()
    {
        var (client, peer) = await PairAsync();
        using var _ = peer;
        await using var __ = client;
        client.Raise();
        var read = Task.Run(() => client.Read(new byte[16], 0, 16));
        await Wait.Until(() => !client.Raised, what: "the read to lower the mark");
        peer.Send("sync"u8);
        Assert.That(await read.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(4));
    }
}
