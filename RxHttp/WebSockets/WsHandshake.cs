using System.Security.Cryptography;
using System.Text;

namespace RxHttp.WebSockets;

/// <summary>The RFC 6455 section 4 opening handshake: the request headers and the checks on the 101 answer.</summary>
internal static class WsHandshake
{
    private const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>A fresh Sec-WebSocket-Key: 16 random bytes, base64.</summary>
    public static string NewKey()
    {
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce);
        return Convert.ToBase64String(nonce);
    }

    /// <summary>The Sec-WebSocket-Accept value the server must answer <paramref name="key"/> with.</summary>
    public static string AcceptFor(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + Guid)));

    /// <summary>
    /// Checks a handshake answer in aiohttp's order (status, Upgrade, Connection, Accept, then negotiation).
    /// </summary>
    /// <returns>The chosen subprotocol (or null) and the negotiated compression (or null).</returns>
    /// <exception cref="WsServerHandshakeError">The server refused or answered wrongly.</exception>
    public static (string? Protocol, WsDeflateOptions? Deflate) Validate(RequestInfo info, int status, string reason, HeaderCollection headers,
        string key, IReadOnlyList<string> protocols, int compress)
    {
        WsServerHandshakeError Fail(string message) => new(info, status, message, headers);

        if (status != 101) throw Fail($"Invalid response status: {status} {reason}".TrimEnd());
        if (!HasToken(headers.GetAll("Upgrade"), "websocket")) throw Fail("Invalid upgrade header");
        if (!HasToken(headers.GetAll("Connection"), "upgrade")) throw Fail("Invalid connection header");
        if (headers.Get("Sec-WebSocket-Accept")?.Trim() != AcceptFor(key)) throw Fail("Invalid challenge response");

        string? protocol = null;
        var chosen = headers.Get("Sec-WebSocket-Protocol")?.Trim();
        if (!string.IsNullOrEmpty(chosen))
        {
            // RFC 6455 4.1: a subprotocol the client did not offer fails the connection.
            if (!protocols.Contains(chosen, StringComparer.Ordinal)) throw Fail($"The server chose the subprotocol '{chosen}', which was not offered");
            protocol = chosen;
        }

        var extensions = string.Join(", ", headers.GetAll("Sec-WebSocket-Extensions"));
        WsDeflateOptions? deflate = null;
        if (compress == 0)
        {
            if (!string.IsNullOrWhiteSpace(extensions)) throw Fail($"The server enabled extensions that were not offered: {extensions}");
        }
        else
        {
            deflate = WsDeflateOptions.ParseResponse(extensions, out var error, compress, offerClientMaxWindowBits: true);
            if (error is not null) throw Fail(error);
        }
        return (protocol, deflate);
    }

    private static bool HasToken(IEnumerable<string> values, string token)
    {
        foreach (var value in values)
            foreach (var part in value.Split(','))
                if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
