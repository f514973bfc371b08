namespace RxHttp.Http1;

/// <summary>How the end of a response body is found.</summary>
internal enum BodyFraming : byte
{
    None,
    ContentLength,
    Chunked,
    UntilClose,
}

/// <summary>Body framing and connection persistence for a response (RFC 9112 §6.3 and §9.3).</summary>
internal static class HttpFraming
{
    /// <summary>
    /// Decides how the body of a response is delimited. <paramref name="contentLength"/> is the length for
    /// <see cref="BodyFraming.ContentLength"/>, 0 for <see cref="BodyFraming.None"/> and -1 otherwise.
    /// Header values are passed as received (one entry per header line; each may be a comma list); generic, so
    /// that the response path's <see cref="HeaderValues"/> is not boxed.
    /// </summary>
    public static BodyFraming Decide<TValues>(string requestMethod, int status, TValues transferEncodingValues,
        TValues contentLengthValues, out long contentLength) where TValues : IReadOnlyList<string>
    {
        ArgumentNullException.ThrowIfNull(requestMethod);
        // Not ThrowIfNull: its object parameter would box a struct.
        if (transferEncodingValues is null) throw new ArgumentNullException(nameof(transferEncodingValues));
        if (contentLengthValues is null) throw new ArgumentNullException(nameof(contentLengthValues));

        // These responses never carry a body whatever their headers claim (a HEAD response's Content-Length
        // describes the GET body), so their framing headers are not inspected at all.
        if (string.Equals(requestMethod, "HEAD", StringComparison.Ordinal) || status < 200 || status == 204 || status == 304
            || (status < 300 && string.Equals(requestMethod, "CONNECT", StringComparison.Ordinal)))
        {
            contentLength = 0;
            return BodyFraming.None;
        }

        contentLength = -1;
        if (transferEncodingValues.Count > 0)
        {
            // RFC 9112 §6.1: a message with both is a smuggling attempt or a broken intermediary; a client must not
            // guess which one the server meant.
            if (contentLengthValues.Count > 0)
                throw new HttpParseException("Response has both Transfer-Encoding and Content-Length");
            return FinalCodingIsChunked(transferEncodingValues) ? BodyFraming.Chunked : BodyFraming.UntilClose;
        }

        if (contentLengthValues.Count > 0)
        {
            long length = ParseContentLength(contentLengthValues);
            if (length == 0)
            {
                contentLength = 0;
                return BodyFraming.None;
            }
            contentLength = length;
            return BodyFraming.ContentLength;
        }

        return BodyFraming.UntilClose;
    }

    /// <summary>
    /// HTTP/1.1 and later: persistent unless Connection lists "close". HTTP/1.0 and earlier: persistent only if
    /// Connection lists "keep-alive" (and not "close").
    /// </summary>
    public static bool IsKeepAlive<TValues>(int versionMajor, int versionMinor, TValues connectionValues) where TValues : IReadOnlyList<string>
    {
        if (connectionValues is null) throw new ArgumentNullException(nameof(connectionValues));
        bool close = false, keepAlive = false;
        // Indexed rather than foreach: enumerating an IReadOnlyList allocates an enumerator, on every response.
        for (int i = 0; i < connectionValues.Count; i++)
        {
            string value = connectionValues[i];
            foreach (Range r in value.AsSpan().Split(','))
            {
                ReadOnlySpan<char> token = value.AsSpan()[r].Trim(" \t");
                if (token.Equals("close", StringComparison.OrdinalIgnoreCase)) close = true;
                else if (token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)) keepAlive = true;
            }
        }
        if (close) return false;
        bool http11OrLater = versionMajor > 1 || (versionMajor == 1 && versionMinor >= 1);
        return http11OrLater || keepAlive;
    }

    /// <summary>
    /// The idle time a server announces in its <c>Keep-Alive</c> header (<c>timeout=5, max=100</c>), or null when it
    /// names none that is a whole number of seconds.
    /// </summary>
    public static TimeSpan? KeepAliveTimeout(string? value)
    {
        if (value is null) return null;
        foreach (var part in value.Split(','))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length == 2 && kv[0].Equals("timeout", StringComparison.OrdinalIgnoreCase) && int.TryParse(kv[1], out var s) && s >= 0)
                return TimeSpan.FromSeconds(s);
        }
        return null;
    }

    /// <summary>
    /// The transfer codings a response's body still carries once its framing is undone (RFC 9112 §7): the
    /// Transfer-Encoding list without its final chunked, or null when there is none (the usual plain "chunked").
    /// Only for a list <see cref="Decide"/> accepted.
    /// </summary>
    public static string? TransferCodings<TValues>(TValues values) where TValues : IReadOnlyList<string>
    {
        if (values is null) throw new ArgumentNullException(nameof(values));
        if (values.Count == 0 || values.Count == 1 && values[0].AsSpan().Trim(" \t").Equals("chunked", StringComparison.OrdinalIgnoreCase)) return null;
        var codings = new List<string>();
        for (int i = 0; i < values.Count; i++)
        {
            string value = values[i];
            foreach (Range r in value.AsSpan().Split(','))
            {
                // A coding's parameters (none is registered for gzip or deflate) do not change how it is undone.
                ReadOnlySpan<char> coding = Coding(value.AsSpan()[r], out _);
                if (!coding.IsEmpty) codings.Add(coding.ToString());
            }
        }
        if (codings.Count > 0 && codings[^1].Equals("chunked", StringComparison.OrdinalIgnoreCase)) codings.RemoveAt(codings.Count - 1);
        return codings.Count == 0 ? null : string.Join(", ", codings);
    }

    // RFC 9112 §6.3 item 4: chunked must be the final coding for the length to come from chunking; when some other
    // coding follows it (or it is absent) the body of a response runs until the server closes. Chunked twice is
    // rejected whatever comes last: a sender must not apply it more than once (§6.1), so such a list is garbage.
    private static bool FinalCodingIsChunked<TValues>(TValues values) where TValues : IReadOnlyList<string>
    {
        bool lastIsChunked = false, any = false;
        int chunkedCount = 0;
        for (int i = 0; i < values.Count; i++)
        {
            string value = values[i];
            foreach (Range r in value.AsSpan().Split(','))
            {
                ReadOnlySpan<char> coding = Coding(value.AsSpan()[r], out bool hasParameters);
                if (coding.IsEmpty)
                {
                    // RFC 9110 §5.6.1: empty list elements are ignored, but a parameter with no coding is garbage.
                    if (hasParameters) throw new HttpParseException("Transfer-Encoding has a parameter without a coding: '" + value + "'");
                    continue;
                }
                any = true;
                lastIsChunked = coding.Equals("chunked", StringComparison.OrdinalIgnoreCase);
                if (lastIsChunked && ++chunkedCount > 1)
                    throw new HttpParseException("Transfer-Encoding lists chunked more than once");
            }
        }
        if (!any) throw new HttpParseException("Transfer-Encoding is present but lists no coding");
        return lastIsChunked;
    }

    // One element of a Transfer-Encoding list: the coding's name without its parameters or the OWS around it.
    private static ReadOnlySpan<char> Coding(ReadOnlySpan<char> element, out bool hasParameters)
    {
        int semicolon = element.IndexOf(';');
        hasParameters = semicolon >= 0;
        return (hasParameters ? element[..semicolon] : element).Trim(" \t");
    }

    // RFC 9110 §8.6: Content-Length = 1*DIGIT; a list of identical values (from duplicated headers or a proxy
    // joining them) may be treated as one value; anything else makes the framing untrustworthy.
    private static long ParseContentLength<TValues>(TValues values) where TValues : IReadOnlyList<string>
    {
        long result = -1;
        for (int i = 0; i < values.Count; i++)
        {
            string value = values[i];
            foreach (Range r in value.AsSpan().Split(','))
            {
                ReadOnlySpan<char> element = value.AsSpan()[r].Trim(" \t");
                if (element.IsEmpty) throw new HttpParseException("Invalid Content-Length: empty value in '" + value + "'");
                long parsed = 0;
                foreach (char c in element)
                {
                    uint digit = (uint)(c - '0');
                    if (digit > 9)
                        throw new HttpParseException("Invalid Content-Length: '" + value + "' is not a non-negative decimal number");
                    if (parsed > (long.MaxValue - digit) / 10)
                        throw new HttpParseException("Invalid Content-Length: '" + value + "' is too large");
                    parsed = parsed * 10 + digit;
                }
                if (result >= 0 && result != parsed)
                    throw new HttpParseException("Conflicting Content-Length values: " + string.Join(", ", values));
                result = parsed;
            }
        }
        return result;
    }
}
