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
    /// <summary>A connected loopback pair: the client's socket, its stream, and the peer that writes to it.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        public required LowWaterStream Client { get; init; }
        public required Socket Socket { get; init; }
        public required Socket Peer { get; init; }

        public void Deconstruct(out LowWaterStream client, out Socket socket, out Socket peer) => (client, socket, peer) = (Client, Socket, Peer);

        public async ValueTask DisposeAsync()
        {
            Peer.Dispose();
            await Client.DisposeAsync();
        }
    }

    private static async Task<Pair> PairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptSocketAsync();
        await socket.ConnectAsync(listener.LocalEndpoint);
        return new Pair { Client = new LowWaterStream(socket), Socket = socket, Peer = await accept };
    }

    private static int Mark(Socket s) => (int)s.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveLowWater)!;

    [Test]
    public async Task Raised_a_few_bytes_make_the_socket_readable_to_FIONREAD_only_and_a_FIN_to_Poll_too()
    {
        await using var pair = await PairAsync();
        var (client, socket, peer) = pair;
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
        await using var pair = await PairAsync();
        var (client, socket, peer) = pair;
        var buffer = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer)!;
        client.Raise();
        Assert.That(Mark(socket), Is.EqualTo(Math.Min(LowWaterStream.MaxMark, buffer / 4)));
        Assert.That(socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer), Is.EqualTo(buffer),
            "a mark over about half the buffer grows it and clamps the receive window to the mark");
    }

    [Test]
    public async Task A_read_with_bytes_there_keeps_the_mark_raised()
    {
        await using var pair = await PairAsync();
        var (client, socket, peer) = pair;
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
        await using var pair = await PairAsync();
        var (client, socket, peer) = pair;
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
        await using var pair = await PairAsync();
        var (client, _, peer) = pair;
        client.Raise();
        var wait = client.ReadAsync(Memory<byte>.Empty).AsTask();
        peer.Send("z"u8);
        Assert.That(await wait.WaitAsync(TimeSpan.FromSeconds(10)), Is.Zero);
        Assert.That(client.Available(), Is.EqualTo(1));
    }

    [Test]
    public async Task A_synchronous_read_that_must_wait_lowers_the_mark_too()
    {
        await using var pair = await PairAsync();
        var (client, _, peer) = pair;
        client.Raise();
        var read = Task.Run(() => client.Read(new byte[16], 0, 16));
        await Wait.Until(() => !client.Raised, what: "the read to lower the mark");
        peer.Send("sync"u8);
        Assert.That(await read.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(4));
    }
}
