using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RxHttp;

/// <summary>
/// The SOCKS handshake that turns a connection to a SOCKS proxy into a byte stream to the origin: SOCKS5 (RFC 1928,
/// with RFC 1929 username and password when the proxy settings carry credentials) and SOCKS4. <c>socks5h</c> and
/// <c>socks4a</c> hand the host name to the proxy to resolve; <c>socks5</c> and <c>socks4</c> resolve it here first,
/// as curl does. Every reply is read to its last byte, so nothing of the handshake is left to be taken for the
/// origin's bytes; a proxy that refuses, closes or answers out of protocol fails with
/// <see cref="ClientProxyConnectionError"/>.
/// </summary>
internal static class SocksHandshake
{
    /// <summary>The port of a SOCKS proxy URL that names none.</summary>
    public const int DefaultPort = 1080;

    /// <summary>Whether <paramref name="scheme"/> is a SOCKS proxy's.</summary>
    public static bool IsSocks(string scheme) => scheme is "socks5" or "socks5h" or "socks4" or "socks4a";

    /// <summary>Runs the handshake for <paramref name="key"/>'s host and port over <paramref name="stream"/>, a connection to <paramref name="proxy"/>.</summary>
    public static async Task OpenAsync(Stream stream, ConnectionKey key, Url proxy, Func<string, CancellationToken, Task<IReadOnlyList<IPAddress>>> resolve, CancellationToken ct)
    {
        var remote = proxy.Scheme is "socks5h" or "socks4a";
        var address = IPAddress.TryParse(key.Host, out var literal) ? literal
            : remote ? null
            : Pick(await resolve(key.Host, ct).ConfigureAwait(false), ipv4Only: proxy.Scheme == "socks4", key.Host, proxy);
        var (user, password) = Credentials(key.ProxyAuth);
        var io = new Io(stream, proxy, ct);
        if (proxy.Scheme.StartsWith("socks5", StringComparison.Ordinal)) await Socks5Async(io, key, address, user, password).ConfigureAwait(false);
        else await Socks4Async(io, key, address, user).ConfigureAwait(false);
    }

    private static async Task Socks5Async(Io io, ConnectionKey key, IPAddress? address, string? user, string? password)
    {
        // Greeting: offer username/password only with credentials, so a proxy cannot pick it and get none.
        await io.WriteAsync(user is null ? [5, 1, 0] : [5, 2, 0, 2]).ConfigureAwait(false);
        var choice = await io.ReadAsync(2).ConfigureAwait(false);
        if (choice[0] != 5) throw io.Error($"answered the greeting with version {choice[0]}, not SOCKS5");
        switch (choice[1])
        {
            case 0:
                break;
            case 2 when user is not null:
                var u = Field(Encoding.UTF8.GetBytes(user), "user name", io);
                var p = Field(Encoding.UTF8.GetBytes(password ?? ""), "password", io);
                await io.WriteAsync([1, (byte)u.Length, .. u, (byte)p.Length, .. p]).ConfigureAwait(false);
                var status = await io.ReadAsync(2).ConfigureAwait(false);
                if (status[1] != 0) throw io.Error("refused the user name and password");
                break;
            case 0xFF:
                throw io.Error(user is null ? "requires authentication: give the proxy URL credentials" : "accepts none of the offered authentication methods");
            default:
                throw io.Error($"chose authentication method {choice[1]}, which was not offered");
        }

        byte[] target;
        if (address is null)
        {
            var name = Field(Encoding.ASCII.GetBytes(key.Host), "host name", io);
            target = [3, (byte)name.Length, .. name];
        }
        else
        {
            target = [address.AddressFamily == AddressFamily.InterNetwork ? (byte)1 : (byte)4, .. address.GetAddressBytes()];
        }
        await io.WriteAsync([5, 1, 0, .. target, (byte)(key.Port >> 8), (byte)key.Port]).ConfigureAwait(false);
        var reply = await io.ReadAsync(4).ConfigureAwait(false);
        if (reply[0] != 5) throw io.Error($"answered CONNECT with version {reply[0]}, not SOCKS5");
        if (reply[1] != 0) throw io.Error($"could not connect to {key.Host}:{key.Port}: {Socks5Reply(reply[1])}");
        // The bound address the proxy reports (of no use here), read whole so it is not taken for the origin's bytes.
        var rest = reply[3] switch
        {
            1 => 4,
            4 => 16,
            3 => (await io.ReadAsync(1).ConfigureAwait(false))[0],
            _ => throw io.Error($"answered with address type {reply[3]}"),
        };
        await io.ReadAsync(rest + 2).ConfigureAwait(false);
    }

    private static async Task Socks4Async(Io io, ConnectionKey key, IPAddress? address, string? user)
    {
        // SOCKS4a: the address 0.0.0.1 says the host name follows the user id.
        var ip = address?.GetAddressBytes() ?? [0, 0, 0, 1];
        var id = Encoding.UTF8.GetBytes(user ?? "");
        if (id.Contains((byte)0)) throw io.Error("cannot carry a user id with a NUL byte");
        byte[] host = address is null ? [.. Encoding.ASCII.GetBytes(key.Host), 0] : [];
        await io.WriteAsync([4, 1, (byte)(key.Port >> 8), (byte)key.Port, .. ip, .. id, 0, .. host]).ConfigureAwait(false);
        var reply = await io.ReadAsync(8).ConfigureAwait(false);
        if (reply[0] != 0) throw io.Error($"answered with version {reply[0]}, not a SOCKS4 reply");
        if (reply[1] != 0x5A) throw io.Error($"could not connect to {key.Host}:{key.Port}: {Socks4Reply(reply[1])}");
    }

    private static IPAddress Pick(IReadOnlyList<IPAddress> addresses, bool ipv4Only, string host, Url proxy)
    {
        foreach (var a in addresses)
            if (!ipv4Only || a.AddressFamily == AddressFamily.InterNetwork) return a;
        throw new ClientProxyConnectionError(proxy.Host, proxy.Port,
            $"{host} has no {(ipv4Only ? "IPv4 " : "")}address to give the SOCKS proxy {proxy}{(ipv4Only ? " (socks4a:// lets the proxy resolve it)" : "")}.");
    }

    // The settings keep credentials as the Basic value they would send to an HTTP proxy.
    private static (string? User, string? Password) Credentials(string? basic)
    {
        if (basic is null || !basic.StartsWith("Basic ", StringComparison.Ordinal)) return (null, null);
        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(basic["Basic ".Length..]));
        var colon = pair.IndexOf(':');
        return colon < 0 ? (pair, "") : (pair[..colon], pair[(colon + 1)..]);
    }

    private static byte[] Field(byte[] bytes, string what, Io io) =>
        bytes.Length is >= 1 and <= 255 ? bytes : throw io.Error($"cannot carry a {what} of {bytes.Length} bytes (1 to 255)");

    private static string Socks5Reply(byte code) => code switch
    {
        1 => "general failure",
        2 => "not allowed by the proxy's rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => $"reply code {code}",
    };

    private static string Socks4Reply(byte code) => code switch
    {
        0x5B => "request rejected or failed",
        0x5C => "the proxy could not reach the client's identd",
        0x5D => "the client's identd reported another user id",
        _ => $"reply code {code}",
    };

    /// <summary>Exact reads and writes on the proxy connection, with its failures named for the proxy.</summary>
    private readonly struct Io(Stream stream, Url proxy, CancellationToken ct)
    {
        public ClientProxyConnectionError Error(string what, Exception? inner = null) =>
            new(proxy.Host, proxy.Port, $"SOCKS proxy {proxy} {what}.", inner);

        public async Task WriteAsync(byte[] bytes)
        {
            try
            {
                await stream.WriteAsync(bytes, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                throw Error("closed the connection during the handshake: " + e.Message, e);
            }
        }

        public async Task<byte[]> ReadAsync(int count)
        {
            var buffer = new byte[count];
            try
            {
                await stream.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
            }
            catch (EndOfStreamException)
            {
                throw Error("closed the connection during the handshake");
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                throw Error("closed the connection during the handshake: " + e.Message, e);
            }
            return buffer;
        }
    }
}
