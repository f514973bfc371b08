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

    private static ArgumentException LoneSurrogate(EncoderFallbackException e, string paramName) =>
        new($"The text has a lone UTF-16 surrogate at index {e.Index}, which UTF-8 cannot encode.", paramName, e);
}
