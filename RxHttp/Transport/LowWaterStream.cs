using System.Net.Sockets;

namespace RxHttp.Transport;

/// <summary>
/// A TCP socket's stream whose receive low-water mark (SO_RCVLOWAT) can be raised while its reader polls for a
/// response. The socket engine keeps every socket it has waited on in its epoll set, so each response used to wake
/// the engine's thread and queue a thread-pool work item that found no read waiting, even when the request's own
/// thread polled for the response and took it synchronously: with the mark raised, bytes below it wake nobody, while
/// FIONREAD and a non-blocking receive still see them and a FIN still makes the socket readable. Every read that may
/// wait lowers the mark first, unless bytes are there to take at once, so no read waits for bytes that wake nobody.
/// Linux only (elsewhere <see cref="Raise"/> does nothing). Under TLS this is the stream under the SslStream, whose
/// reads come here: the poll sees records through FIONREAD, and the SslStream's read that follows finds them.
/// </summary>
internal sealed partial class LowWaterStream(Socket socket) : NetworkStream(socket, ownsSocket: true)
{
    /// <summary>The most a raised mark is: responses up to it wake nobody.</summary>
    internal const int MaxMark = 64 * 1024;

    private static readonly bool Supported = OperatingSystem.IsLinux();

    /// <summary>The benchmark's switch, so raised and unraised marks can be measured in the same rounds.</summary>
    internal static bool Enabled { get; set; } = true;

    // Read and written by the connection's one reader at a time.
    private bool _raised;

    /// <summary>True while the mark is raised: readability is FIONREAD's to tell, not Poll's.</summary>
    public bool Raised => _raised;

    /// <summary>
    /// Raises the mark, to a quarter of the receive buffer at most: Linux grows the buffer and clamps the receive
    /// window to the mark when the buffer is under about twice the mark, which would slow a large body later.
    /// </summary>
    public void Raise()
    {
        if (!Enabled)
        {
            if (_raised) Lower();
            return;
        }
        if (_raised || !Supported) return;
        try
        {
            var buffer = (int)Socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer)!;
            var mark = Math.Min(MaxMark, buffer / 4);
            if (mark < 2) return;
            Socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveLowWater, mark);
            _raised = true;
            Interlocked.Increment(ref Raises);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or PlatformNotSupportedException)
        {
            // The socket is gone or refuses the option: reads go on as usual.
        }
    }

    /// <summary>
    /// Whether <paramref name="socket"/> has bytes or its end to read. Under a raised mark of its
    /// <paramref name="lowWater"/> stream, Poll sees only a FIN and FIONREAD sees every byte.
    /// </summary>
    public static bool HasInput(Socket socket, LowWaterStream? lowWater) =>
        (lowWater is { Raised: true } && lowWater.Available() > 0) || socket.Poll(0, SelectMode.SelectRead);

    /// <summary>Bytes waiting to be read (FIONREAD); 0 when the socket is gone.</summary>
    public int Available()
    {
        try
        {
            return Socket.Available;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return 0;
        }
    }

    /// <summary>Lowers a raised mark unless bytes are there to take at once: the read that follows may wait.</summary>
    public void BeforeRead()
    {
        if (_raised && Available() == 0) Lower();
    }

    /// <summary>How often a mark was raised and lowered, process-wide (the benchmark's cpushape mode prints them per request).</summary>
    internal static long Raises, Lowers;

    private void Lower()
    {
        Interlocked.Increment(ref Lowers);
        _raised = false;
        try
        {
            Socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveLowWater, 1);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Gone: the read fails with the reason.
        }
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        BeforeRead();
        return base.Read(buffer, offset, count);
    }

    public override int Read(Span<byte> buffer)
    {
        BeforeRead();
        return base.Read(buffer);
    }

    public override int ReadByte()
    {
        BeforeRead();
        return base.ReadByte();
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        BeforeRead();
        return base.ReadAsync(buffer, offset, count, cancellationToken);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty && _parkNext) return Park();
        BeforeRead();
        return base.ReadAsync(buffer, cancellationToken);
    }

    public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state)
    {
        BeforeRead();
        return base.BeginRead(buffer, offset, count, callback, state);
    }
}
