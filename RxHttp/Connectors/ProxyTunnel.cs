using System.Text;
using RxHttp.Http1;

namespace RxHttp;

/// <summary>The CONNECT handshake that turns a connection to an HTTP proxy into a byte tunnel to the origin.</summary>
internal static class ProxyTunnel
{
    private const int MaxHead = 64 * 1024;

    public static async Task OpenAsync(Stream stream, ConnectionKey key, Url proxy, CancellationToken ct)
    {
        var authority = (key.Host.Contains(':') && !key.Host.StartsWith('[') ? "[" + key.Host + "]" : key.Host) + ":" + key.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var headers = new HeaderCollection();
        headers.Add("Host", authority);
        foreach (var (name, value) in key.ProxyHeaderPairs())
            if (!name.Equals("Host", StringComparison.OrdinalIgnoreCase)) headers.Add(name, value);
        if (key.ProxyAuth is { } auth) headers.Set("Proxy-Authorization", auth);
        var head = new StringBuilder("CONNECT ").Append(authority).Append(" HTTP/1.1\r\n");
        foreach (var (name, value) in headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
        head.Append("\r\n");
        var info = new RequestInfo("CONNECT", Url.Parse("http://" + authority + "/"), headers);
        try
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "Proxy closed the connection before CONNECT: " + e.Message, e);
        }

        var buffer = new byte[MaxHead];
        var filled = 0;
        var handler = new Head();
        int consumed;
        while (true)
        {
            bool parsed;
            try
            {
                parsed = HttpResponseParser.TryParseHead(buffer.AsSpan(0, filled), handler, HttpParserLimits.Default, out consumed);
            }
            catch (HttpParseException e)
            {
                throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "Invalid response to CONNECT: " + e.Message, e);
            }
            if (parsed) break;
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
            if (n == 0) throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "Proxy closed the connection during CONNECT.");
            filled += n;
        }
        if (handler.Status is < 200 or >= 300)
            throw new ClientHttpProxyError(info, handler.Status, handler.Reason, handler.Headers.MakeReadOnly());
        // After a 2xx the proxy relays bytes only once the client speaks, so nothing may follow the head.
        if (consumed != filled)
            throw new ClientProxyConnectionError(proxy.Host, proxy.Port, "The proxy sent data after its CONNECT response.");
    }

    private sealed class Head : IHttpResponseHeadHandler
    {
        public int Status;
        public string Reason = "";
        public HeaderCollection Headers = new();

        public void OnStatusLine(int versionMajor, int versionMinor, int status, ReadOnlySpan<byte> reason)
        {
            Status = status;
            Reason = Encoding.Latin1.GetString(reason);
        }

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            Headers.AddUnchecked(Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value));
    }
}
