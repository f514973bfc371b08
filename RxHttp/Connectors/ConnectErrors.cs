using System.Net.Sockets;
using System.Security.Authentication;

namespace RxHttp;

/// <summary>
/// How a failure to open a connection becomes the client's error, shared by the connectors so a socket's failure
/// reads the same whichever connector met it.
/// </summary>
internal static class ConnectErrors
{
    // The error's constructor writes "Cannot connect to host {host}:{port} [reason]" (aiohttp's form): these give
    // only the reason, which a message of their own would have repeated the host in, nested in brackets.
    public static ClientConnectorError Connect(string host, int port, SocketException e) => new(host, port, e.Message, e);

    public static ClientConnectorDnsError Dns(string host, int port, Exception e) => new(host, port, e.Message, e);

    public static ClientSslError Tls(string host, int port, Exception e) =>
        new(host, port, "TLS handshake failed: " + e.Message, e);

    /// <summary>The resolver's own failures: the name does not exist, or no server answered for it.</summary>
    public static bool IsDnsFailure(SocketException e) =>
        e.SocketErrorCode is SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData or SocketError.NoRecovery;

    /// <summary>Maps what opening a transport threw; null when it is not a transport failure (left to propagate).</summary>
    public static ClientError? Map(string host, int port, Exception e) => e switch
    {
        SocketException s when IsDnsFailure(s) => Dns(host, port, s),
        SocketException s => Connect(host, port, s),
        AuthenticationException a => Tls(host, port, a),
        _ => null,
    };
}
