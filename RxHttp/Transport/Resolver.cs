using System.Net;
using System.Net.Sockets;

namespace RxHttp;

/// <summary>Turns a host name into addresses (aiohttp's <c>AbstractResolver</c>). Plug one into <see cref="TcpConnectorOptions.Resolver"/>.</summary>
public interface IResolver
{
    /// <summary>
    /// The addresses of <paramref name="host"/>, best first. <paramref name="family"/> is
    /// <see cref="AddressFamily.Unspecified"/> (any), <see cref="AddressFamily.InterNetwork"/> or
    /// <see cref="AddressFamily.InterNetworkV6"/>. Failures should throw <see cref="SocketException"/> or a
    /// <see cref="ClientConnectorDnsError"/>; anything else is wrapped in one.
    /// </summary>
    Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, int port, AddressFamily family, CancellationToken cancellationToken);
}

/// <summary>The operating system's resolver (getaddrinfo), the default.</summary>
public sealed class SystemResolver : IResolver
{
    /// <summary>The shared instance.</summary>
    public static SystemResolver Instance { get; } = new();

    /// <inheritdoc />
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, int port, AddressFamily family, CancellationToken cancellationToken) =>
        await Dns.GetHostAddressesAsync(host, family, cancellationToken).ConfigureAwait(false);
}
