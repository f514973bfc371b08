namespace RxHttp;

/// <summary>
/// The peer broke RFC 6455 or RFC 7692 (a bad frame, invalid UTF-8, an oversized message). The connection
/// must be failed by sending a close frame with <see cref="CloseCode"/>.
/// </summary>
public sealed class WebSocketProtocolException : WsConnectionError
{
    /// <summary>Creates the error.</summary>
    /// <param name="closeCode">The close code to fail the connection with.</param>
    /// <param name="message">What the peer did wrong.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public WebSocketProtocolException(WsCloseCode closeCode, string message, Exception? inner = null)
        : base(message, inner) => CloseCode = closeCode;

    /// <summary>The close code to send to the peer.</summary>
    public WsCloseCode CloseCode { get; }
}
