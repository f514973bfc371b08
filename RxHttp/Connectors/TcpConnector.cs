using System.Net;
using System.Net.Sockets;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>Settings of a <see cref="TcpConnector"/> (aiohttp's TCPConnector arguments).</summary>
public class TcpConnectorOptions : ConnectorOptions
{
    /// <summary>TLS settings for https and wss connections (verification on by default).</summary>
    public TlsOptions Tls { get; init; } = TlsOptions.Default;

    /// <summary>Which address family to use: <see cref="AddressFamily.Unspecified"/> (any), InterNetwork or InterNetworkV6.</summary>
    public AddressFamily Family { get; init; } = AddressFamily.Unspecified;

    /// <summary>The local address (and port, 0 for any) to bind before connecting.</summary>
    public IPEndPoint? LocalAddress { get; init; }

    /// <summary>Resolves host names (default: <see cref="SystemResolver"/>, the operating system's).</summary>
    public IResolver Resolver { get; init; } = SystemResolver.Instance;

    /// <summary>Cache resolved addresses per (host, port) and share concurrent look-ups of one name (default true).</summary>
    public bool UseDnsCache { get; init; } = true;

    /// <summary>How long a cached look-up stays valid, on the connector's scheduler (default 10 s; null: forever).</summary>
    public TimeSpan? TtlDnsCache { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// RFC 8305 Happy Eyeballs: with several addresses, the next connect attempt starts after this delay (on the
    /// scheduler) unless the previous one failed sooner, and the first to connect wins. Default 250 ms; null
    /// tries the addresses one after the other.
    /// </summary>
    public TimeSpan? HappyEyeballsDelay { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>
/// Connects over TCP: resolves the host (cached), races the addresses (Happy Eyeballs), applies TLS for https
/// and wss, and goes through a proxy when the pool key names one: an HTTP proxy (absolute form for http, a CONNECT
/// tunnel then TLS for https and wss, a tunnel alone for ws) or a SOCKS proxy (its handshake, then as over a direct connection).
/// </summary>
public class TcpConnector : BaseConnector
{
    private readonly DnsCache _dns;
    private int _attempts;

    /// <summary>Creates the connector.</summary>
    public TcpConnector(TcpConnectorOptions? options = null) : base(options ?? new TcpConnectorOptions())
    {
        TcpOptions = (TcpConnectorOptions)Options;
        if (TcpOptions.Family is not (AddressFamily.Unspecified or AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentOutOfRangeException(nameof(options), "Family must be Unspecified, InterNetwork or InterNetworkV6.");
        ArgumentNullException.ThrowIfNull(TcpOptions.Resolver, nameof(TcpConnectorOptions.Resolver));
        _dns = new DnsCache(TcpOptions.Resolver, () => Scheduler);
    }

    /// <summary>The TCP settings.</summary>
    public TcpConnectorOptions TcpOptions { get; }

    /// <summary>Whether resolved addresses are cached.</summary>
    public bool UseDnsCache => TcpOptions.UseDnsCache;

    /// <summary>Look-ups that reached the resolver (cache hits and shared look-ups are not counted).</summary>
    internal int ResolverLookups => Volatile.Read(ref _dns.Lookups);

    /// <summary>Connect attempts started (one per address tried).</summary>
    internal int ConnectAttempts => Volatile.Read(ref _attempts);

    /// <summary>
    /// Forgets cached addresses: of one (<paramref name="host"/>, <paramref name="port"/>) or, with both null, all.
    /// </summary>
    /// <exception cref="ArgumentException">Only one of the two was given.</exception>
    public void ClearDnsCache(string? host = null, int? port = null)
    {
        if ((host is null) != (port is null)) throw new ArgumentException("Give both host and port, or neither.");
        _dns.Clear(host, port);
    }

    /// <inheritdoc />
    protected internal override Task<Connection> CreateConnectionAsync(ConnectionKey key, CancellationToken cancellationToken) =>
        CreateConnectionAsync(key, null, cancellationToken);

    /// <inheritdoc />
    protected internal override async Task<Connection> CreateConnectionAsync(ConnectionKey key, ClientTimeout? timeout, CancellationToken cancellationToken)
    {
        if (key.Proxy is not null) return await ConnectThroughProxyAsync(key, timeout, cancellationToken).ConfigureAwait(false);
        var (socket, due) = await ConnectSocketCoreAsync(key.Host, key.Port, timeout, cancellationToken).ConfigureAwait(false);
        return await FinishAsync(key, socket, new LowWaterStream(socket), timeout, due, cancellationToken).ConfigureAwait(false);
    }

    // The TLS handshake is part of connecting: SockConnect bounds it too, as aiohttp's sock_connect covers the
    // create_connection (or start_tls) that does the handshake, and HttpClient's ConnectTimeout covers it. Without
    // that a server that accepts and never answers the ClientHello held the request until its Total timeout.
    // Direct, the handshake ends by the deadline of the connect attempt that won (connectDue): one SockConnect for
    // both, as in aiohttp, not a second one from the connect's end. Through a proxy it gets its own, as aiohttp's
    // start_tls over the tunnel does.
    private async Task<Connection> FinishAsync(ConnectionKey key, Socket socket, Stream stream, ClientTimeout? timeout, DateTimeOffset? connectDue, CancellationToken ct)
    {
        var socketStream = stream as LowWaterStream;
        if (key.IsSsl)
        {
            using var deadline = connectDue is { } due
                ? new ConnectDeadline(ConnectScheduler, due, ct)
                : new ConnectDeadline(ConnectScheduler, ClientTimeout.Active(timeout?.SockConnect), timeout?.CeilThreshold ?? TimeSpan.Zero, ct);
            try
            {
                stream = await SocketFactory.TlsAsync(stream, key.Host, key.Port, key.Tls ?? TcpOptions.Tls, alpnHttp11: true, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                socket.Dispose();
                if (deadline.Expired && !ct.IsCancellationRequested)
                    throw new ConnectionTimeoutError($"Connection timeout to host {key.Host}:{key.Port} (TLS handshake)", e);
                throw;
            }
            var connection = NewConnection(key, socket, stream);
            connection.TlsInner = socketStream;
            return connection;
        }
        return NewConnection(key, socket, stream);
    }

    private async Task<Connection> ConnectThroughProxyAsync(ConnectionKey key, ClientTimeout? timeout, CancellationToken ct)
    {
        var proxy = Url.Parse(key.Proxy!);
        Socket socket;
        try
        {
            socket = await ConnectSocketAsync(proxy.Host, proxy.Port, timeout, ct).ConfigureAwait(false);
        }
        catch (ClientConnectorError e)
        {
            throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "proxy: " + e.Reason, e.InnerException ?? e);
        }
        var stream = new LowWaterStream(socket);
        try
        {
            // A plain-HTTP proxy needs no handshake: requests go to it in absolute form.
            if (key.IsSocks) await SocksHandshake.OpenAsync(stream, key, proxy, (host, c) => ResolveAsync(host, key.Port, c), ct).ConfigureAwait(false);
            else if (key.IsTunnel) await ProxyTunnel.OpenAsync(stream, key, proxy, ct).ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            throw;
        }
        return key.IsSsl ? await FinishAsync(key, socket, stream, timeout, null, ct).ConfigureAwait(false) : NewConnection(key, socket, stream);
    }

    /// <summary>Resolves <paramref name="host"/> and races its addresses; SockConnect applies to each attempt.</summary>
    protected async Task<Socket> ConnectSocketAsync(string host, int port, ClientTimeout? timeout, CancellationToken ct) =>
        (await ConnectSocketCoreAsync(host, port, timeout, ct).ConfigureAwait(false)).Socket;

    // The socket, with the SockConnect deadline of the attempt that connected it (null: none).
    private async Task<(Socket Socket, DateTimeOffset? Due)> ConnectSocketCoreAsync(string host, int port, ClientTimeout? timeout, CancellationToken ct)
    {
        var addresses = await ResolveAsync(host, port, ct).ConfigureAwait(false);
        var endPoints = HappyEyeballs.Interleave(addresses).Select(a => new IPEndPoint(a, port)).ToList();
        var racer = new HappyEyeballs(ConnectScheduler, TcpOptions.HappyEyeballsDelay, ClientTimeout.Active(timeout?.SockConnect),
            timeout?.CeilThreshold ?? TimeSpan.FromSeconds(5), TcpOptions.LocalAddress, () => Interlocked.Increment(ref _attempts));
        try
        {
            return await racer.ConnectAsync(endPoints, ct).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw ConnectErrors.Connect(host, port, e);
        }
        catch (ConnectionTimeoutError e)
        {
            throw new ConnectionTimeoutError($"Connection timeout to host {host}:{port}", e);
        }
    }

    /// <summary>Resolves <paramref name="host"/>, keeping only addresses of <see cref="TcpConnectorOptions.Family"/>.</summary>
    protected async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, int port, CancellationToken ct)
    {
        var bare = host.Length > 1 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        IReadOnlyList<IPAddress> addresses;
        if (IPAddress.TryParse(Url.SocketHost(bare), out var literal)) addresses = new[] { literal };
        else if (UseDnsCache && _dns.TryGetFresh(host, port, TcpOptions.TtlDnsCache, out var cached))
        {
            ConnectorTrace.Emit(ConnectorTrace.Current.Value, ConnectorTraceKind.DnsCacheHit);
            addresses = cached;
        }
        else
        {
            var trace = ConnectorTrace.Current.Value;
            ConnectorTrace.Emit(trace, ConnectorTraceKind.DnsCacheMiss);
            ConnectorTrace.Emit(trace, ConnectorTraceKind.DnsResolveHostStart);
            try
            {
                addresses = UseDnsCache
                    ? await _dns.ResolveAsync(host, port, TcpOptions.Family, TcpOptions.TtlDnsCache, ct).ConfigureAwait(false)
                    : await ResolveUncachedAsync(host, port, ct).ConfigureAwait(false);
                ConnectorTrace.Emit(trace, ConnectorTraceKind.DnsResolveHostEnd);
            }
            catch (ClientConnectorDnsError)
            {
                throw;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                throw ConnectErrors.Dns(host, port, e);
            }
        }
        if (TcpOptions.Family != AddressFamily.Unspecified) addresses = addresses.Where(a => a.AddressFamily == TcpOptions.Family).ToList();
        if (addresses.Count == 0) throw new ClientConnectorDnsError(host, port, $"no addresses of family {TcpOptions.Family}");
        return addresses;
    }

    private async Task<IReadOnlyList<IPAddress>> ResolveUncachedAsync(string host, int port, CancellationToken ct)
    {
        Interlocked.Increment(ref _dns.Lookups);
        return await TcpOptions.Resolver.ResolveAsync(host, port, TcpOptions.Family, ct).ConfigureAwait(false);
    }
}
