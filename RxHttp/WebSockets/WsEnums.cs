namespace RxHttp;

/// <summary>
/// The kind of a <see cref="WsMessage"/>. The wire kinds carry their RFC 6455 opcode as the value; the
/// pseudo kinds (<see cref="Closing"/>, <see cref="Closed"/>, <see cref="Error"/>) use aiohttp's values so
/// logs and ported code read the same.
/// </summary>
public enum WsMsgType
{
    /// <summary>A continuation frame; never delivered as a message, only seen on the wire.</summary>
    Continuation = 0x0,
    /// <summary>A UTF-8 text message.</summary>
    Text = 0x1,
    /// <summary>A binary message.</summary>
    Binary = 0x2,
    /// <summary>A close frame from the peer.</summary>
    Close = 0x8,
    /// <summary>A ping from the peer.</summary>
    Ping = 0x9,
    /// <summary>A pong from the peer.</summary>
    Pong = 0xA,
    /// <summary>The local side started the closing handshake.</summary>
    Closing = 0x100,
    /// <summary>The connection is closed.</summary>
    Closed = 0x101,
    /// <summary>The connection failed; see <see cref="WsMessage.Exception"/>.</summary>
    Error = 0x102,
}

/// <summary>
/// Close status codes (RFC 6455 section 7.4.1), named like aiohttp's <c>WSCloseCode</c> in .NET casing,
/// plus <see cref="NoStatusReceived"/>, which aiohttp leaves out.
/// </summary>
public enum WsCloseCode : ushort
{
    /// <summary>Normal closure.</summary>
    Ok = 1000,
    /// <summary>The endpoint is going away (server shutdown, page navigation).</summary>
    GoingAway = 1001,
    /// <summary>The endpoint saw a protocol error.</summary>
    ProtocolError = 1002,
    /// <summary>The endpoint cannot accept this kind of data.</summary>
    UnsupportedData = 1003,
    /// <summary>Reserved: the close frame carried no status. Never sent on the wire.</summary>
    NoStatusReceived = 1005,
    /// <summary>Reserved: the connection dropped without a close frame. Never sent on the wire.</summary>
    AbnormalClosure = 1006,
    /// <summary>Message data did not match its type (for example invalid UTF-8 in a text message).</summary>
    InvalidText = 1007,
    /// <summary>A message violated the endpoint's policy.</summary>
    PolicyViolation = 1008,
    /// <summary>A message was too big to process.</summary>
    MessageTooBig = 1009,
    /// <summary>The client expected an extension the server did not negotiate.</summary>
    MandatoryExtension = 1010,
    /// <summary>The server hit an unexpected condition.</summary>
    InternalError = 1011,
    /// <summary>The server is restarting.</summary>
    ServiceRestart = 1012,
    /// <summary>The server is overloaded; try again later.</summary>
    TryAgainLater = 1013,
    /// <summary>A gateway received an invalid response upstream.</summary>
    BadGateway = 1014,
}
