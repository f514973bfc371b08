namespace RxHttp;

/// <summary>
/// Another response's body piped into this request (aiohttp's <c>data=resp.content</c>): streamed as it
/// arrives, with Content-Length when the source had one and is not decompressed on the way. The source response
/// is released when the body has been sent.
/// </summary>
public sealed class ResponsePayload : Payload
{
    private readonly ClientResponse _response;

    /// <summary>Creates the payload (application/octet-stream, as aiohttp sends a piped stream).</summary>
    public ResponsePayload(ClientResponse response, string contentType = "application/octet-stream")
    {
        ArgumentNullException.ThrowIfNull(response);
        _response = response;
        ContentType = contentType;
    }

    /// <inheritdoc />
    public override long? Length => _response.ContentLength;

    /// <inheritdoc />
    public override async ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
    {
        await using var stream = _response.GetStream();
        await StreamPayload.CopyAsync(stream, writer, null, cancellationToken).ConfigureAwait(false);
    }
}
