using System.Net.Sockets;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// HTTP over a Unix domain socket (aiohttp's UnixConnector): every connection goes to <see cref="Path"/>; the
/// URL's host only fills the Host header (and the pool key). TLS is not offered on a Unix socket.
/// </summary>
/// <example><code>
/// await using var session = new ClientSession(new ClientSessionOptions { Connector = new UnixConnector("/run/docker.sock") });
/// var info = await session.Get("http://localhost/info").SelectMany(r => r.Text());
/// </code></example>
public class UnixConnector : BaseConnector
{
    /// <summary>Creates the connector for the socket at <paramref name="path"/>.</summary>
    public UnixConnector(string path, ConnectorOptions? options = null) : base(options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    /// <summary>The socket file every connection opens.</summary>
    public string Path { get; }

    /// <inheritdoc />
    protected internal override async Task<Connection> CreateConnectionAsync(ConnectionKey key, CancellationToken cancellationToken)
    {
        if (key.IsSsl) throw new ClientConnectorError(key.Host, key.Port, $"TLS is not supported over the Unix socket {Path}.");
        if (key.Proxy is not null) throw new ClientConnectorError(key.Host, key.Port, $"Proxies are not supported over the Unix socket {Path}.");
        UnixDomainSocketEndPoint endPoint;
        try
        {
            endPoint = new UnixDomainSocketEndPoint(Path);
        }
        catch (ArgumentException e)
        {
            // A path longer than sun_path holds (108 bytes on Linux) is the connect's failure, as in aiohttp (an
            // OSError, "AF_UNIX path too long"), not an untyped ArgumentOutOfRangeException out of the request.
            throw new ClientConnectorError(key.Host, key.Port, $"unix socket {Path}: {e.Message}", e);
        }
        try
        {
            var socket = await SocketFactory.ConnectAsync(endPoint, null, cancellationToken).ConfigureAwait(false);
            return NewConnection(key, socket, new NetworkStream(socket, ownsSocket: true));
        }
        catch (SocketException e)
        {
            throw new ClientConnectorError(key.Host, key.Port, $"unix socket {Path}: {e.Message}", e);
        }
    }
}
