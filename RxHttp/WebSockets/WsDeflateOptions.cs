using System.Globalization;

namespace RxHttp.WebSockets;

/// <summary>
/// Negotiated permessage-deflate parameters (RFC 7692 section 7.1), from the client's point of view: the
/// server compresses with <see cref="ServerMaxWindowBits"/>, we compress with <see cref="ClientMaxWindowBits"/>.
/// </summary>
/// <param name="ServerNoContextTakeover">The server resets its window after every message.</param>
/// <param name="ClientNoContextTakeover">We must reset our window after every message.</param>
/// <param name="ServerMaxWindowBits">The server's window, 8..15.</param>
/// <param name="ClientMaxWindowBits">Our window, 9..15 (8 is refused: zlib cannot produce it).</param>
internal sealed record WsDeflateOptions(
    bool ServerNoContextTakeover = false,
    bool ClientNoContextTakeover = false,
    int ServerMaxWindowBits = 15,
    int ClientMaxWindowBits = 15)
{
    /// <summary>The extension token.</summary>
    public const string ExtensionName = "permessage-deflate";

    /// <summary>
    /// The <c>Sec-WebSocket-Extensions</c> request value, shaped like aiohttp's <c>ws_ext_gen</c>:
    /// <paramref name="compress"/> &lt; 15 asks the server for a smaller window (server_max_window_bits), and
    /// client_max_window_bits (no value) tells it we can honour a window limit of its choosing.
    /// </summary>
    /// <param name="compress">The server window to ask for, 9..15; 15 means "no preference".</param>
    /// <param name="serverNoContextTakeover">Ask the server not to keep context between messages.</param>
    /// <param name="offerClientMaxWindowBits">Advertise client_max_window_bits.</param>
    public static string BuildOffer(int compress = 15, bool serverNoContextTakeover = false, bool offerClientMaxWindowBits = true)
    {
        if (compress is < 9 or > 15) throw new ArgumentOutOfRangeException(nameof(compress), compress, "Window bits must be 9..15.");
        var parts = new List<string> { ExtensionName };
        if (offerClientMaxWindowBits) parts.Add("client_max_window_bits");
        if (compress < 15) parts.Add("server_max_window_bits=" + compress.ToString(CultureInfo.InvariantCulture));
        if (serverNoContextTakeover) parts.Add("server_no_context_takeover");
        return string.Join("; ", parts);
    }

    /// <summary>
    /// Validates the server's <c>Sec-WebSocket-Extensions</c> answer to an offer made with the same arguments
    /// to <see cref="BuildOffer"/>. The handshake must be failed when <paramref name="error"/> is set.
    /// </summary>
    /// <returns>The negotiated options; null when the server declined compression or the answer is invalid.</returns>
    public static WsDeflateOptions? ParseResponse(string? header, out string? error, int compress = 15, bool offerClientMaxWindowBits = true)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(header)) return null;
        WsDeflateOptions? result = null;
        // Commas inside quoted values are not legal for any permessage-deflate parameter, so a plain split works.
        foreach (var rawExt in header.Split(','))
        {
            var ext = rawExt.Trim();
            if (ext.Length == 0) continue;
            var items = ext.Split(';');
            var name = items[0].Trim();
            if (!name.Equals(ExtensionName, StringComparison.OrdinalIgnoreCase))
                return Fail(out error, $"the server enabled extension '{name}', which was not offered");
            if (result is not null)
                return Fail(out error, "the server enabled permessage-deflate more than once");
            bool sNoCtx = false, cNoCtx = false;
            int? sBits = null, cBits = null;
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (int i = 1; i < items.Length; i++)
            {
                var item = items[i].Trim();
                if (item.Length == 0) return Fail(out error, "empty extension parameter");
                int eq = item.IndexOf('=');
                var key = (eq < 0 ? item : item[..eq]).Trim().ToLowerInvariant();
                string? value = eq < 0 ? null : Unquote(item[(eq + 1)..].Trim());
                if (!seen.Add(key)) return Fail(out error, $"duplicate parameter '{key}'");
                switch (key)
                {
                    case "server_no_context_takeover":
                    case "client_no_context_takeover":
                        if (value is not null) return Fail(out error, $"'{key}' takes no value");
                        if (key[0] == 's') sNoCtx = true; else cNoCtx = true;
                        break;
                    case "server_max_window_bits":
                        if (!TryBits(value, out int sb)) return Fail(out error, $"server_max_window_bits must be 8..15, got '{value}'");
                        if (sb > compress) return Fail(out error, $"server_max_window_bits={sb} exceeds the offered {compress}");
                        sBits = sb;
                        break;
                    case "client_max_window_bits":
                        if (!offerClientMaxWindowBits) return Fail(out error, "client_max_window_bits was not offered");
                        if (!TryBits(value, out int cb)) return Fail(out error, $"client_max_window_bits must be 8..15, got '{value}'");
                        // zlib's deflateInit2 rejects an 8-bit raw window; aiohttp refuses it the same way.
                        if (cb < 9) return Fail(out error, "client_max_window_bits=8 is not supported (zlib cannot compress with a 256-byte window)");
                        cBits = cb;
                        break;
                    default:
                        return Fail(out error, $"unknown permessage-deflate parameter '{key}'");
                }
            }
            result = new WsDeflateOptions(sNoCtx, cNoCtx, sBits ?? 15, cBits ?? 15);
        }
        return result;
    }

    private static readonly Lazy<bool> Supported = new(() =>
    {
        try
        {
            // Compression mode initialises zlib at once, so this loads the runtime's native compression library.
            using var probe = new System.IO.Compression.DeflateStream(Stream.Null, System.IO.Compression.CompressionLevel.Fastest);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException)
        {
            return false;
        }
    });

    /// <summary>
    /// Whether the runtime's deflate implementation (behind <see cref="System.IO.Compression.DeflateStream"/>)
    /// could be loaded. When false (an unusual host or trimmed native assets), the handshake must not offer
    /// permessage-deflate.
    /// </summary>
    public static bool IsSupported => Supported.Value;

    /// <summary>A deflater for our messages.</summary>
    public WsDeflater CreateDeflater(int level = -1) => new(ClientMaxWindowBits, ClientNoContextTakeover, level);

    /// <summary>An inflater for the server's messages.</summary>
    public WsInflater CreateInflater() => new(ServerNoContextTakeover);

    private static WsDeflateOptions? Fail(out string? error, string message)
    {
        error = "Invalid permessage-deflate response: " + message;
        return null;
    }

    private static string? Unquote(string v) => v.Length >= 2 && v[0] == '"' && v[^1] == '"' ? v[1..^1] : v;

    // RFC 7692: 1*DIGIT without leading zeros, 8..15.
    private static bool TryBits(string? value, out int bits)
    {
        bits = 0;
        if (value is null || value.Length is 0 or > 2 || value[0] == '0') return false;
        foreach (char c in value) if (c is < '0' or > '9') return false;
        bits = int.Parse(value, CultureInfo.InvariantCulture);
        return bits is >= 8 and <= 15;
    }
}
