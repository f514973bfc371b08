using System.Text;

namespace RxHttp;

/// <summary>
/// Encodings that refuse bytes they cannot decode, for the places that must tell valid text from invalid: the U+FFFD a
/// lenient UTF-8 decoder would put in is how "café" silently became "caf\uFFFD".
/// </summary>
internal static class StrictEncodings
{
    /// <summary>UTF-8 without a BOM that throws <see cref="DecoderFallbackException"/> on invalid bytes. Thread-safe, shared.</summary>
    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// <paramref name="text"/> in UTF-8, refusing a lone surrogate (which a lenient encoder sends as U+FFFD, so the peer
    /// gets other text than was given) with an <see cref="ArgumentException"/> naming <paramref name="paramName"/>, as
    /// Python's <c>str.encode("utf-8")</c> raises in aiohttp's <c>send_str</c>.
    /// </summary>
    public static byte[] Utf8Bytes(string text, string paramName)
    {
        try
        {
            return Utf8.GetBytes(text);
        }
        catch (EncoderFallbackException e)
        {
            throw LoneSurrogate(e, paramName);
        }
    }

    /// <summary>As <see cref="Utf8Bytes(string, string)"/>, into <paramref name="destination"/>; the count written.</summary>
    public static int Utf8Bytes(string text, Span<byte> destination, string paramName)
    {
        try
        {
            return Utf8.GetBytes(text, destination);
        }
        catch (EncoderFallbackException e)
        {
            throw LoneSurrogate(e, paramName);
        }
    }

    /// <summary>
    /// The index of the first UTF-16 surrogate without its partner in <paramref name="s"/>, or -1. UTF-8 has no form
    /// for one, so text holding it cannot go out as it was written: a lenient encoder substitutes U+FFFD and a
    /// percent-encoder would drop it, where Python's encode("utf-8") (aiohttp, yarl) raises.
    /// </summary>
    public static int IndexOfLoneSurrogate(ReadOnlySpan<char> s)
    {
        var i = s.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0) return -1;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            else if (char.IsSurrogate(c)) return i;
        }
        return -1;
    }

    private static ArgumentException LoneSurrogate(EncoderFallbackException e, string paramName) =>
        new($"The text has a lone UTF-16 surrogate at index {e.Index}, which UTF-8 cannot encode.", paramName, e);
}
