using System.Text;

namespace RxHttp;

/// <summary>
/// A byte order mark at the start of a body. As the WHATWG Encoding Standard's <c>decode</c> (what browsers do), and
/// as HttpClient and StreamReader, it names the body's encoding and is not part of the text: without this a UTF-8
/// body saved by a Windows editor gave a string starting with U+FEFF, failed <c>Json&lt;T&gt;()</c> at its first byte,
/// and a UTF-16 body without a charset failed <c>Text()</c> as invalid UTF-8 (aiohttp keeps the mark, as Python's
/// <c>bytes.decode("utf-8")</c> does).
/// </summary>
internal static class ByteOrderMark
{
    /// <summary>
    /// The encoding a leading mark names and its length; null and 0 without one. UTF-8 strictly, as a body without
    /// charset is decoded; UTF-16 (either order) as a declared charset is, lone surrogates becoming U+FFFD.
    /// </summary>
    public static Encoding? Sniff(ReadOnlySpan<byte> bytes, out int length)
    {
        if (bytes is [0xEF, 0xBB, 0xBF, ..])
        {
            length = 3;
            return StrictEncodings.Utf8;
        }
        length = 2;
        if (bytes is [0xFF, 0xFE, ..]) return Encoding.Unicode;
        if (bytes is [0xFE, 0xFF, ..]) return Encoding.BigEndianUnicode;
        length = 0;
        return null;
    }

    /// <summary>
    /// The length of a leading mark of <paramref name="encoding"/> itself (one the caller chose: a mark of another
    /// encoding is left as text, the caller's choice standing).
    /// </summary>
    public static int LengthFor(ReadOnlySpan<byte> bytes, Encoding encoding) =>
        Sniff(bytes, out var length) is { } named && named.CodePage == encoding.CodePage ? length : 0;

    /// <summary>Whether <paramref name="bytes"/> may be the start of a mark but are not a whole one (more must come to tell; none yet included).</summary>
    public static bool IsPartial(ReadOnlySpan<byte> bytes) =>
        bytes is [] or [0xEF] or [0xEF, 0xBB] or [0xFF] or [0xFE];
}
