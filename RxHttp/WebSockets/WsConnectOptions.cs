using System.Net;
using System.Reactive.Concurrency;

namespace RxHttp;

/// <summary>
/// Arguments of <see cref="ClientSession.WsConnect(Url, WsConnectOptions?)"/> (aiohttp's <c>ws_connect</c> keyword
/// arguments in .NET casing). Everything has aiohttp's default.
/// </summary>
public sealed class WsConnectOptions
{
    /// <summary>Subprotocols offered in <c>Sec-WebSocket-Protocol</c>, in order of preference.</summary>
    public IEnumerable<string>? Protocols { get; init; }

    /// <summary>The receive and close timeouts (default: no receive timeout, 10 s to close).</summary>
    public WsTimeout Timeout { get; init; } = WsTimeout.Default;

    /// <summary>
    /// Answer a CLOSE from the server with a CLOSE and drop the socket (default true). When false the
    /// CLOSE message is delivered, the message stream completes, and the socket stays open until
    /// <see cref="ClientWebSocket.Close(int, string?)"/> is called.
    /// </summary>
    public bool Autoclose { get; init; } = true;

    /// <summary>Answer PINGs with PONGs and hide PING and PONG messages (default true).</summary>
    public bool Autoping { get; init; } = true;

    /// <summary>
    /// Send a PING after this long without any inbound data, then fail the connection (close code 1006,
    /// <see cref="ServerTimeoutError"/>) unless some data arrives within half of it. Null (default) = off.
    /// </summary>
    public TimeSpan? Heartbeat { get; init; }

    /// <summary>The <c>Origin</c> header.</summary>
    public string? Origin { get; init; }

    /// <summary>Extra handshake headers, over the session's defaults.</summary>
    public IEnumerable<KeyValuePair<string, string>>? Headers { get; init; }

    /// <summary>Query parameters merged after any query already in the URL.</summary>
    public QueryParams? Params { get; init; }

    /// <summary>HTTP Basic credentials for the handshake (overrides credentials in the URL).</summary>
    public NetworkCredential? Auth { get; init; }

    /// <summary>
    /// The proxy to go through: an http:// one by a CONNECT tunnel, or a SOCKS one (see <see cref="ProxySettings"/>).
    /// It becomes part of the connection key, so it takes effect with a connector that supports proxies.
    /// </summary>
    public Url? Proxy { get; init; }

    /// <summary>The proxy's credentials: Basic <c>Proxy-Authorization</c> for an http:// proxy, the SOCKS handshake's for a SOCKS one.</summary>
    public NetworkCredential? ProxyAuth { get; init; }

    /// <summary>TLS settings for wss URLs, over the connector's.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>
    /// The clock of this websocket's timers, over the session's: the handshake's timeouts, the heartbeat and its
    /// pong wait, the receive timeout and the wait for the server's CLOSE; for <see cref="ClientSession.WsReconnecting"/>
    /// also the reconnection backoff and <see cref="ReconnectOptions.NoMessageTimeout"/>. Null: the session's scheduler.
    /// </summary>
    public IScheduler? Scheduler { get; init; }

    /// <summary>
    /// permessage-deflate: 0 (default) = not offered; 9..15 = offered, asking the server for a window of at
    /// most that many bits (15 = no preference).
    /// </summary>
    public int Compress { get; init; }

    /// <summary>Largest message accepted, after decompression, in bytes (default 4 MiB); 0 = no limit. Bigger ones fail the connection with close code 1009.</summary>
    public int MaxMsgSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Split outgoing data messages into frames of at most this many payload bytes; 0 (default) = one frame per message.</summary>
    public int MaxFrameSize { get; init; }

    /// <summary>
    /// How many received messages <see cref="ClientWebSocket.Receive"/> and <see cref="ClientWebSocket.ReadAllAsync"/>
    /// may hold unread (default 1024). When full, the socket is not read until one is taken, which pushes back on the
    /// server through TCP; subscribers of <see cref="ClientWebSocket.Messages"/> then wait too.
    /// </summary>
    public int MaxQueuedMessages { get; init; } = 1024;

    /// <summary>Headers of the handshake request that are not added automatically (User-Agent).</summary>
    public IEnumerable<string>? SkipAutoHeaders { get; init; }
}

/// <summary>aiohttp's <c>ClientWSTimeout</c>: the websocket's own timeouts, all run on the session's scheduler.</summary>
public sealed record WsTimeout
{
    /// <summary>No receive timeout, 10 s to close.</summary>
    public static WsTimeout Default { get; } = new();

    /// <summary>
    /// The longest wait for the next message (any frame, pings and pongs included) while the socket is being
    /// read: as aiohttp's <c>receive_timeout</c>, the time a message waits in the <see cref="ClientWebSocket.Receive"/>
    /// queue or is being handled by a subscriber does not count. On expiry the connection fails: close code 1006, an ERROR message with <see cref="ServerTimeoutError"/>,
    /// socket dropped. After <see cref="ClientWebSocket.Close(int, string?)"/> only <see cref="WsClose"/> applies, as the heartbeat stops. Null or zero = none (default).
    /// </summary>
    public TimeSpan? WsReceive { get; init; }

    /// <summary>
    /// From the start of a close, the longest wait for our CLOSE to be sent (behind a send that may be stalled) and the
    /// server's CLOSE to arrive before the socket is dropped with close code 1006 (default 10 s). It also bounds sending the
    /// CLOSE that fails a protocol violation.
    /// </summary>
    public TimeSpan? WsClose { get; init; } = TimeSpan.FromSeconds(10);
}
