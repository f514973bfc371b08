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
}
