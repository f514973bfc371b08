using System.Text;

namespace RxHttp;

/// <summary>
/// A byte order mark at the start of a body. As the WHATWG Encoding Standard's <c>decode</c> (what browsers do), and
/// as HttpClient and StreamReader, it names the body's encoding and is not part of the text: without this a UTF-8
/// body saved by a Windows editor gave a string starting with U+FEFF, failed <c>Json&lt;T&gt;()</c> at its first byte,
/// and a UTF-16 body without a charset failed <c>Text()</c> as invalid UTF-8 (aiohttp keeps the mark, as Python's
/// <c>bytes.decode("utf-8")</c> does). UTF-32 marks are known too, as HttpClient and Python's <c>utf-32</c> codec
/// know them: FF FE 00 00 read as a UTF-16LE mark decoded a <c>charset=utf-32</c> body as UTF-16, a NUL after each
/// character.
/// </summary>
internal static class ByteOrderMark
{
    /// <summary>
    /// The encoding a leading mark names and its length; null and 0 without one. UTF-8 strictly, as a body without
    /// charset is decoded; UTF-16 and UTF-32 (either order) as a declared charset is, invalid units becoming U+FFFD.
    /// The UTF-32LE mark starts with the UTF-16LE one, so it is tried first: no UTF-16 text starts with U+0000.
    /// </summary>
    public static Encoding? Sniff(ReadOnlySpan<byte> bytes, out int length)
    {
        if (bytes is [0xEF, 0xBB, 0xBF, ..])
        {
            length = 3;
            return StrictEncodings.Utf8;
        }
        length = 4;
        if (bytes is [0xFF, 0xFE, 0x00, 0x00, ..]) return Encoding.UTF32;
        if (bytes is [0x00, 0x00, 0xFE, 0xFF, ..]) return Utf32BigEndian;
        length = 2;
        if (bytes is [0xFF, 0xFE, ..]) return Encoding.Unicode;
        if (bytes is [0xFE, 0xFF, ..]) return Encoding.BigEndianUnicode;
        length = 0;
        return null;
    }

    private static readonly Encoding Utf32BigEndian = new UTF32Encoding(bigEndian: true, byteOrderMark: true);

    /// <summary>
    /// The length of a leading mark of <paramref name="encoding"/> itself (one the caller chose: a mark of another
    /// encoding is left as text, the caller's choice standing).
    /// </summary>
    public static int LengthFor(ReadOnlySpan<byte> bytes, Encoding encoding) =>
        Sniff(bytes, out var length) is { } named && named.CodePage == encoding.CodePage ? length : 0;

    /// <summary>Whether <paramref name="bytes"/> may be the start of a mark, or of a longer one than they hold (FF FE of FF FE 00 00): more must come to tell.</summary>
    private static bool IsPartial(ReadOnlySpan<byte> bytes) =>
        bytes is [] or [0xEF] or [0xEF, 0xBB] or [0xFF] or [0xFE] or [0xFF, 0xFE] or [0xFF, 0xFE, 0x00] or [0x00] or [0x00, 0x00] or [0x00, 0x00, 0xFE];

    /// <summary>
    /// The first bytes of a body pushed in pieces, held until they show whether a mark leads it, so that a mark split
    /// over pushes is still seen whole (the line and event stream splitters). A mutable struct: keep it in a field.
    /// </summary>
    internal struct Lead
    {
        private byte[]? _held;
        private int _count;

        /// <summary>Whether the start was seen: every later byte is the body's own.</summary>
        public bool Decided { get; private set; }

        /// <summary>
        /// Holds bytes of <paramref name="bytes"/> that may belong to a mark and advances past them. False: they may
        /// still be one, more must come. True (always when <paramref name="final"/>): <paramref name="head"/> is the
        /// body's first bytes, up to four, a mark included if one leads, and the rest of <paramref name="bytes"/> follows them.
        /// </summary>
        public bool TryTake(ref ReadOnlySpan<byte> bytes, bool final, out ReadOnlySpan<byte> head)
        {
            _held ??= new byte[4];
            var take = Math.Min(_held.Length - _count, bytes.Length);
            bytes[..take].CopyTo(_held.AsSpan(_count));
            _count += take;
            bytes = bytes[take..];
            head = _held.AsSpan(0, _count);
            if (!final && _count < _held.Length && IsPartial(head)) return false;
            Decided = true;
            return true;
        }
    }
}
