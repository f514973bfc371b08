namespace RxHttp.Http1;

/// <summary>Malformed or over-limit HTTP/1.1 input from the peer.</summary>
/// <remarks>
/// Kept independent of the public error hierarchy so this layer stays pure; the connection layer maps
/// <see cref="IsPayloadError"/> = false to a response error and true to a payload error.
/// </remarks>
internal sealed class HttpParseException : Exception
{
    public HttpParseException(string message, bool isPayloadError = false) : base(message)
    {
        IsPayloadError = isPayloadError;
    }

    /// <summary>False: bad status line, headers or framing; true: the body (chunked encoding or trailers) is bad.</summary>
    public bool IsPayloadError { get; }
}
