using System.Reactive.Concurrency;

namespace RxHttp;

/// <summary>
/// Opens the transport of one connection: a duplex stream for <paramref name="key"/> (host, port, TLS, proxy).
/// Throw as a socket would: a <see cref="System.Net.Sockets.SocketException"/> (<c>ConnectionRefused</c>,
/// <c>HostNotFound</c>, …) or an <see cref="System.Security.Authentication.AuthenticationException"/>.
/// </summary>
public delegate ValueTask<Stream> StreamOpener(ConnectionKey key, CancellationToken cancellationToken);

/// <summary>
/// A connector whose connections are streams that <see cref="StreamOpener"/> opens instead of sockets: an in-memory
/// transport for tests (RxHttp.Testing's <c>FakeHttp</c> is one), a named pipe, a tunnel of your own. Everything above
/// the wire runs as over TCP: the pool and its limits, keep-alive, the HTTP/1.1 writer and parser, timeouts, redirects,
/// cookies, websockets. The opener's failures become the errors <see cref="TcpConnector"/> raises for the same socket
/// failure: a <c>SocketException</c> whose code is a resolver's (<c>HostNotFound</c>, <c>TryAgain</c>, <c>NoData</c>,
/// <c>NoRecovery</c>) a <see cref="ClientConnectorDnsError"/>, any other a <see cref="ClientConnectorError"/>, an
/// <c>AuthenticationException</c> a <see cref="ClientSslError"/>; <see cref="ClientTimeout.SockConnect"/> cancels an
/// opening that takes longer with <see cref="ConnectionTimeoutError"/>, on the connector's scheduler. Anything else the
/// opener throws reaches the request unchanged.
/// </summary>
/// <remarks>
/// A stream's reads must honour their cancellation token, and disposing the stream must fail a read in flight (with
/// <see cref="ObjectDisposedException"/> or <see cref="IOException"/>): that is how a read timeout or a cancelled request
/// ends a read, as closing a socket does. Reads that complete synchronously keep a request on the caller's thread,
/// which is what makes a virtual-time test deterministic.
/// </remarks>
public class StreamConnector : BaseConnector
{
    private readonly StreamOpener _open;

    /// <summary>Creates the connector; <paramref name="open"/> is called once per new connection.</summary>
    public StreamConnector(StreamOpener open, ConnectorOptions? options = null) : base(options)
    {
        ArgumentNullException.ThrowIfNull(open);
        _open = open;
    }

    // Async-local, as BaseConnector's OpeningScheduler: a pooled stream serves requests on different clocks in turn, and
    // a Stream's Write has no parameter to carry one.
    private static readonly AsyncLocal<IScheduler?> SendingScheduler = new();

    /// <summary>
    /// The clock of the request (or websocket handshake) being sent on this flow, for a stream to read in its
    /// <c>Write</c>: the request's <see cref="RequestOptions.Scheduler"/> (a websocket's <see cref="WsConnectOptions.Scheduler"/>),
    /// else its session's <see cref="ClientSession.Scheduler"/>. A scripted server (RxHttp.Testing's <c>FakeHttp</c>)
    /// times its answer on it, so a request on a clock of its own is answered on that clock. Null where no request of
    /// a session is being sent (a lease taken with <see cref="BaseConnector.Connect(ConnectionKey)"/>).
    /// </summary>
    public static IScheduler? RequestScheduler => SendingScheduler.Value;

    // Called by the exchange and the websocket handshake as they acquire a connection of this connector.
    internal static void NoteRequestScheduler(IScheduler scheduler) => SendingScheduler.Value = scheduler;

    /// <inheritdoc />
    protected internal override Task<Connection> CreateConnectionAsync(ConnectionKey key, CancellationToken cancellationToken) =>
        CreateConnectionAsync(key, null, cancellationToken);

    /// <inheritdoc />
    protected internal override async Task<Connection> CreateConnectionAsync(ConnectionKey key, ClientTimeout? timeout, CancellationToken cancellationToken)
    {
        var host = key.Host;
        var port = key.Port;
        using var deadline = new Transport.ConnectDeadline(ConnectScheduler, ClientTimeout.Active(timeout?.SockConnect), timeout?.CeilThreshold ?? TimeSpan.Zero, cancellationToken);
        try
        {
            var stream = await _open(key, deadline.Token).ConfigureAwait(false);
            if (stream is null) throw new InvalidOperationException($"The StreamOpener returned no stream for {key}.");
            return NewConnection(key, null, stream);
        }
        catch (OperationCanceledException) when (deadline.Expired && !cancellationToken.IsCancellationRequested)
        {
            throw new ConnectionTimeoutError($"Connection timeout to host {host}:{port}");
        }
        catch (Exception e) when (ConnectErrors.Map(host, port, e) is { } mapped)
        {
            throw mapped;
        }
    }
}
