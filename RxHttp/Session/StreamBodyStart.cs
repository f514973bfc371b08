using System.Collections;

namespace RxHttp;

/// <summary>
/// Where a seekable stream in a request's <c>Data</c> starts: where it stands when the request is made. A payload built
/// per subscription would start where the previous send left the stream (its end, or where a failed upload stopped
/// reading), and a second subscription or <c>Retry()</c> would send that rest as the whole body, and succeed. Made once
/// instead, the payload rewinds to its start on every subscription, as HttpClient's <c>StreamContent</c> keeps the
/// position it was created at.
/// </summary>
internal static class StreamBodyStart
{
    /// <summary><paramref name="options"/>, with <c>Data</c> made a payload now when it is, or holds, a seekable stream.</summary>
    public static RequestOptions Pin(RequestOptions options)
    {
        switch (options.Data)
        {
            case Stream { CanSeek: true, CanRead: true } stream:
                return options with { Data = new StreamPayload(stream) };
            case null or Payload or string or byte[]:
                return options;
            // Form fields (a dictionary, an array or list of pairs) with a file among them: multipart, one part per stream.
            // Only collections, which can be read twice without side effects; a lazy sequence is left to the subscription.
            case ICollection fields when HoldsSeekableStream(fields):
                try
                {
                    return options with { Data = Payload.From(fields) };
                }
                catch (ArgumentException)
                {
                    return options; // refused again by the subscription, which reports it
                }
            default:
                return options;
        }
    }

    // Read as the form payload reads its fields, so every shape of pair it takes is looked into.
    private static bool HoldsSeekableStream(ICollection fields)
    {
        List<KeyValuePair<string, object?>>? pairs;
        try
        {
            pairs = FormUrlEncodedPayload.TryGetPairs(fields);
        }
        catch (ArgumentException)
        {
            return false; // refused again by the subscription, which reports it
        }
        return pairs is not null && pairs.Exists(static p => p.Value is Stream { CanSeek: true });
    }
}
