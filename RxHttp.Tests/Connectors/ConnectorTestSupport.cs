using System.Net;
using System.Net.Sockets;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// A pool under test: every connection is a REAL loopback socket to <see cref="Listener"/>. With
/// <see cref="Gated"/> set, opening waits until the test calls <see cref="OpenNext"/>.
/// </summary>
internal sealed class LoopbackConnector : BaseConnector
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _accepted = new();
    private readonly Queue<TaskCompletionSource> _gates = new();
    private int _opened;

    public LoopbackConnector(ConnectorOptions options) : base(options)
    {
        _listener.Start(1000);
    }

    public bool Gated { get; init; }
    public int Opened => Volatile.Read(ref _opened);
    public int PendingOpens { get { lock (_gates) return _gates.Count; } }

    /// <summary>Server-side sockets, in accept order.</summary>
    public IReadOnlyList<Socket> Accepted { get { lock (_accepted) return _accepted.ToList(); } }

    public void OpenNext()
    {
        TaskCompletionSource g;
        lock (_gates) g = _gates.Dequeue();
        g.SetResult();
    }

    protected internal override async Task<Connection> CreateConnectionAsync(ConnectionKey key, CancellationToken cancellationToken)
    {
        if (Gated)
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gates) _gates.Enqueue(gate);
            await gate.Task.WaitAsync(cancellationToken);
        }
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync((IPEndPoint)_listener.LocalEndpoint, cancellationToken);
        var server = await _listener.AcceptSocketAsync(cancellationToken);
        lock (_accepted) _accepted.Add(server);
        Interlocked.Increment(ref _opened);
        return NewConnection(key, socket, new NetworkStream(socket, ownsSocket: true));
    }

    public void StopListener()
    {
        _listener.Stop();
        foreach (var s in Accepted) s.Dispose();
    }
}

/// <summary>
/// A loopback address whose listener never answers: its accept queue is full, so the kernel drops new SYNs
/// and a connect attempt hangs until cancelled. A second, answering listener shares the port on 127.0.0.1.
/// </summary>
internal sealed class Blackhole : IDisposable
{
    private readonly List<Socket> _fillers = new();

    public Blackhole(string address = "127.0.0.2")
    {
        for (var tries = 0; ; tries++)
        {
            Silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Silent.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
            Port = ((IPEndPoint)Silent.LocalEndPoint!).Port;
            Answering = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                Answering.Bind(new IPEndPoint(IPAddress.Loopback, Port));
                break;
            }
            catch (SocketException) when (tries < 20)
            {
                Silent.Dispose();
                Answering.Dispose();
            }
        }
        Answering.Listen(100);
        Silent.Listen(0);
        // Fill the accept queue until a connect no longer completes.
        while (true)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
            _fillers.Add(s);
            try { s.Connect(SilentEndPoint); }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress) { }
            if (!s.Poll(200_000, SelectMode.SelectWrite)) break;
            if (_fillers.Count > 64) throw new InvalidOperationException("Could not fill the accept queue.");
        }
    }

    public Socket Silent { get; private set; } = null!;
    public Socket Answering { get; private set; } = null!;
    public int Port { get; private set; }
    public IPEndPoint SilentEndPoint => (IPEndPoint)Silent.LocalEndPoint!;

    /// <summary>
    /// Empties the silent listener's accept queue, so that the next SYN to it (a pending connect's retransmission)
    /// completes; nothing accepts it, so a ClientHello sent on it goes unanswered.
    /// </summary>
    public void Unblock()
    {
        foreach (var s in _fillers) s.Dispose();
        _fillers.Clear();
        Silent.Blocking = false;
        try
        {
            while (true) Silent.Accept().Dispose();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
        }
    }

    public void Dispose()
    {
        foreach (var s in _fillers) s.Dispose();
        Silent.Dispose();
        Answering.Dispose();
    }
}

/// <summary>A resolver with fixed answers that counts look-ups and can hold them until released.</summary>
internal sealed class FakeResolver(params IPAddress[] addresses) : IResolver
{
    private TaskCompletionSource? _hold;
    private int _lookups;

    public int Lookups => Volatile.Read(ref _lookups);
    public AddressFamily LastFamily { get; private set; }
    public Exception? Fail { get; set; }

    public void Hold() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    public void Resume() => _hold?.TrySetResult();

    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, int port, AddressFamily family, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lookups);
        LastFamily = family;
        if (_hold is { } h) await h.Task.WaitAsync(cancellationToken);
        if (Fail is not null) throw Fail;
        return addresses;
    }
}
