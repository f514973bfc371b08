using System.Net;
using System.Net.Sockets;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>Settings of a <see cref="TcpConnector"/>.</summary>
public class TcpConnectorOptions : ConnectorOptions
{
    /// <summary>TLS settings for https and wss connections (verification on by default).</summary>
    public TlsOptions Tls { get; init; } = TlsOptions.Default;

    /// <summary>Which address family to use: <see cref="AddressFamily.Unspecified"/> (any), InterNetwork or InterNetworkV6.</summary>
    public AddressFamily Family { get; init; } = AddressFamily.Unspecified;

    /// <summary>The local address (and port, 0 for any) to bind before connecting.</summary>
    public IPEndPoint? LocalAddress { get; init; }
}

/// <summary>Connects over TCP, optionally with TLS, resolving names with the system resolver.</summary>
public class TcpConnector : BaseConnector
{
    /// <summary>Creates the connector.</summary>
    public TcpConnector(TcpConnectorOptions? options = null) : base(options ?? new TcpConnectorOptions())
    {
        TcpOptions = (TcpConnectorOptions)Options;
    }

    /// <summary>The TCP settings.</summary>
    public TcpConnectorOptions TcpOptions { get; }

    /// <inheritdoc />
    protected internal override async Task<Connection> CreateConnectionAsync(ConnectionKey key, CancellationToken cancellationToken)
    {
        var socket = await ConnectSocketAsync(key.Host, key.Port, cancellationToken).ConfigureAwait(false);
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (key.IsSsl)
        {
            try
            {
                stream = await SocketFactory.TlsAsync(stream, key.Host, key.Port, key.Tls ?? TcpOptions.Tls, alpnHttp11: true, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        return NewConnection(key, socket, stream);
    }

    /// <summary>Resolves <paramref name="host"/> and connects to the first address that answers.</summary>
    protected async Task<Socket> ConnectSocketAsync(string host, int port, CancellationToken ct)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal)) addresses = new[] { literal };
        else
        {
            var trace = ConnectorTrace.Current.Value;
            ConnectorTrace.Emit(trace, ConnectorTraceKind.DnsCacheMiss);
            ConnectorTrace.Emit(trace, ConnectorTraceKind.DnsResolveHostStart);
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, TcpOptions.Family, ct).ConfigureAwait(false);
                ConnectorTrace.Emit(trace, ConnectorTraceKind.DnsResolveHostEnd);
            }
            catch (SocketException e)
            {
                throw new ClientConnectorDnsError(host, port, e.Message, e);
            }
            if (addresses.Length == 0) throw new ClientConnectorDnsError(host, port, "no addresses");
        }
        Exception? last = null;
        foreach (var address in addresses)
        {
            try
            {
                return await SocketFactory.ConnectAsync(new IPEndPoint(address, port), TcpOptions.LocalAddress, ct).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                last = e;
            }
        }
        throw new ClientConnectorError(host, port, last?.Message ?? "connect failed", last);
    }
}
