using System.Collections;
using System.Runtime.CompilerServices;

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

    private static bool HoldsSeekableStream(ICollection fields)
    {
        if (fields is IDictionary dictionary)
        {
            foreach (var value in dictionary.Values)
                if (value is Stream { CanSeek: true }) return true;
            return false;
        }
        foreach (var item in fields)
        {
            var value = item switch
            {
                DictionaryEntry e => e.Value,
                KeyValuePair<string, object?> p => p.Value,
                ITuple { Length: 2 } t => t[1],
                _ => null,
            };
            if (value is Stream { CanSeek: true }) return true;
        }
        return false;
    }
}
