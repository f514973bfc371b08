namespace RxHttp;

/// <summary>
/// A buffered read (<see cref="ClientResponse.Read"/>, <c>Text</c>, <c>Json</c>, <c>Multipart</c>) met more body bytes,
/// counted after decompression, than <see cref="ClientSessionOptions.MaxBodySize"/> or
/// <see cref="RequestOptions.MaxBodySize"/> allows, or a Content-Length announcing more. The response is released
/// (its connection closed unless the whole body had already arrived). Also a line or event of an event stream over
/// its limit (<see cref="ClientResponse.Events"/>).
/// </summary>
public class ClientPayloadTooLargeError : ClientPayloadError
{
    /// <summary>Creates the error.</summary>
    public ClientPayloadTooLargeError(long limit, long? announced = null)
        : base(announced is { } length
            ? $"Response Content-Length announces {length} bytes, more than MaxBodySize ({limit} bytes). {Advice}"
            : $"Response body is larger than MaxBodySize ({limit} bytes, counted after decompression). {Advice}")
    {
        Limit = limit;
        AnnouncedLength = announced;
    }

    /// <summary>Creates the error for another limit than MaxBodySize, which <paramref name="message"/> names.</summary>
    public ClientPayloadTooLargeError(long limit, string message) : base(message) => Limit = limit;

    private const string Advice = "Raise ClientSessionOptions.MaxBodySize or RequestOptions.MaxBodySize (0 turns the limit off), " +
        "or stream the body with Content, BorrowedContent, IterChunked or GetStream().";

    /// <summary>The limit that was exceeded, in bytes.</summary>
    public long Limit { get; }

    /// <summary>The Content-Length that announced too much, or null when the bytes themselves went over.</summary>
    public long? AnnouncedLength { get; }
}

/// <summary>
/// The size limit of buffered reads (0 = none), checked against a Content-Length before reading and against the bytes
/// counted (after decompression) as they are read, so a decompression bomb fails after at most one read past the
/// limit. <see cref="BodyBuffer"/> collects the bytes themselves.
/// </summary>
internal static class BodySizeLimit
{
    /// <summary>Throws <see cref="ClientPayloadTooLargeError"/> when a body of <paramref name="announced"/> bytes cannot fit.</summary>
    public static void CheckAnnounced(long limit, long announced)
    {
        if (limit > 0 && announced > limit) throw new ClientPayloadTooLargeError(limit, announced);
    }

    /// <summary>Counts <paramref name="total"/> bytes seen so far against <paramref name="limit"/>, for reads that hand parts out as they go.</summary>
    public static void CheckCount(long limit, long total)
    {
        if (limit > 0 && total > limit) throw new ClientPayloadTooLargeError(limit);
    }
}
