namespace RxHttp;

/// <summary>A response was received but is not acceptable (status, protocol or content type).</summary>
/// <remarks>
/// Raised from every layer that reads a response head (a proxy's refusal, a websocket handshake, the exchange), so it
/// lives in Core; the redirect history it carries (<see cref="History"/>) is made of responses, so that part of it,
/// and the errors raised with a history, live beside <see cref="ClientResponse"/> (ClientResponseError.History.cs).
/// </remarks>
public partial class ClientResponseError : ClientError
{
    // For the errors raised below the response, which have no redirect history to carry.
    private protected ClientResponseError(RequestInfo? requestInfo, int status, string message, HeaderCollection? headers, Exception? inner)
        : base(Format(status, message, requestInfo), inner)
    {
        RequestInfo = requestInfo;
        Status = status;
        StatusMessage = message;
        Headers = headers;
    }

    /// <summary>The request that produced the response, when known.</summary>
    public RequestInfo? RequestInfo { get; }
    /// <summary>The HTTP status, or 0 when the response could not be parsed.</summary>
    public int Status { get; }
    /// <summary>The reason phrase or a description of what is wrong.</summary>
    public string StatusMessage { get; }
    /// <summary>The response headers, when they were received.</summary>
    public HeaderCollection? Headers { get; }

    private static string Format(int status, string message, RequestInfo? info)
        => info is null ? $"{status}, message='{message}'" : $"{status}, message='{message}', url='{info.Url}'";
}

/// <summary>The websocket handshake was refused or answered wrongly.</summary>
public class WsServerHandshakeError : ClientResponseError
{
    /// <summary>Creates the error.</summary>
    public WsServerHandshakeError(RequestInfo? requestInfo, int status, string message, HeaderCollection? headers = null)
        : base(requestInfo, status, message, headers, null) { }
}

/// <summary>A proxy answered CONNECT (or a proxied request) with a non-success status.</summary>
public class ClientHttpProxyError : ClientResponseError
{
    /// <summary>Creates the error.</summary>
    public ClientHttpProxyError(RequestInfo? requestInfo, int status, string message, HeaderCollection? headers = null)
        : base(requestInfo, status, message, headers, null) { }
}
