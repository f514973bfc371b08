namespace RxHttp;

public sealed partial class ClientSession
{
    // Compress wraps the body and names its encoding; the exchange then sends it chunked because the
    // compressed length is unknown.
    private static Payload? PrepareBody(Payload? body, HeaderCollection headers, RequestOptions options)
    {
        if (options.Compress is not { } compress) return body;
        var encoding = CompressedPayload.Normalize(compress);
        if (headers.Contains("Content-Encoding"))
            throw new ArgumentException("Compress cannot be combined with an explicit Content-Encoding header.", nameof(options));
        if (body is null) return null;
        headers.Set("Content-Encoding", encoding);
        return new CompressedPayload(body, encoding);
    }

    // Stored in Properties so they survive ClientRequest.With on redirect hops.
    private static void ApplyBodyOptions(ClientRequest request, RequestOptions options)
    {
        if (options.Expect100) request.Properties[Http1Exchange.Expect100Key] = true;
        if (options.UploadProgress is { } progress) request.Properties[Http1Exchange.UploadProgressKey] = progress;
    }
}
