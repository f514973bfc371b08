using RxHttp.Http1;

namespace RxHttp;

/// <summary>The CONNECT handshake that turns a connection to an HTTP proxy into a byte tunnel to the origin.</summary>
internal static class ProxyTunnel
{
    private const int MaxHead = 64 * 1024;

    public static async Task OpenAsync(Stream stream, ConnectionKey key, Url proxy, CancellationToken ct)
    {
        // RFC 9112 §3.2.3's authority-form is RFC 3986's host, which has no IPv6 zone; RFC 6874 §4 says a client
        // removes it, and to the proxy it would name an interface of this machine (HttpClient sends it here).
        var authority = Url.WireHost(key.Host) + ":" + key.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var headers = new HeaderCollection();
        headers.Add("Host", authority);
        foreach (var (name, value) in key.ProxyHeaderPairs())
            if (!name.Equals("Host", StringComparison.OrdinalIgnoreCase)) headers.Add(name, value);
        // aiohttp, curl and HttpClient all name themselves to the proxy, and some proxies refuse a CONNECT without it.
        if (!headers.Contains("User-Agent")) headers.Add("User-Agent", HttpRequestWriter.DefaultUserAgent);
        if (key.ProxyAuth is { } auth) headers.Set("Proxy-Authorization", auth);
        var head = new System.Buffers.ArrayBufferWriter<byte>(256);
        HttpRequestWriter.WriteHead(head, "CONNECT", authority, headers.Span);
        var info = new RequestInfo("CONNECT", Url.Parse("http://" + authority + "/"), headers);
        try
        {
            await stream.WriteAsync(head.WrittenMemory, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "Proxy closed the connection before CONNECT: " + e.Message, e);
        }

        var buffer = new byte[MaxHead];
        var filled = 0;
        var handler = new ResponseHeadBuilder();
        var reader = new ResponseHeadReader(handler, HttpParserLimits.Default);
        while (true)
        {
            bool parsed;
            try
            {
                parsed = reader.TryParse(buffer.AsSpan(0, filled));
            }
            catch (HttpParseException e)
            {
                throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "Invalid response to CONNECT: " + e.Message, e);
            }
            if (parsed)
            {
                // RFC 9110 §15.2: interim 1xx answers (101 is final) come before the real one; drop them, as aiohttp does.
                if (handler.Status is not (>= 100 and < 200) || handler.Status == 101) break;
                filled -= reader.Consumed;
                Buffer.BlockCopy(buffer, reader.Consumed, buffer, 0, filled);
                handler.Reset();
                reader = new ResponseHeadReader(handler, HttpParserLimits.Default);
                continue;
            }
            if (filled == buffer.Length) throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "The proxy's CONNECT response head is too large.");
            int n;
            try
            {
                n = await stream.ReadAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "Proxy disconnected during CONNECT: " + e.Message, e);
            }
            if (!reader.Received(n)) throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "Proxy closed the connection during CONNECT.");
            filled += n;
        }
        if (handler.Status is < 200 or >= 300)
            throw new ClientHttpProxyError(info, handler.Status, handler.Reason, handler.Headers.MakeReadOnly());
        // After a 2xx the proxy relays bytes only once the client speaks, so nothing may follow the head.
        if (reader.Consumed != filled)
            throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "The proxy sent data after its CONNECT response.");
    }
}
