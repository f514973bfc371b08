using System.Text;

namespace RxHttp;

/// <summary>
/// Percent-encoding with yarl's rules. One instance per URL part, because each part has its own set of
/// characters that may stay literal ("safe"), and of escapes that must never be decoded ("protected")
/// since decoding them would change how the server splits the part (a decoded %2F is a new path segment).
/// </summary>
internal sealed class Quoter
{
    // RFC 3986 unreserved characters plus the sub-delimiters that mean nothing in a query string.
    private const string Allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*,";
    private const string QsDelims = "+&=;";

    // yarl: _PATH_REQUOTER = _Quoter(safe="@:", protected="/+")
    internal static readonly Quoter PathRequoter = new("@:", "/+", qs: false, requote: true);
    // yarl: _QUERY_REQUOTER = _Quoter(safe="?/:@", protected="=+&;", qs=True)
    internal static readonly Quoter QueryRequoter = new("?/:@", "=+&;", qs: true, requote: true);
    // yarl: _QUERY_PART_QUOTER = _Quoter(safe="?/:@", qs=True, requote=False), for one key or value.
    internal static readonly Quoter QueryPartQuoter = new("?/:@", "", qs: true, requote: false);
    // yarl: _FRAGMENT_REQUOTER = _Quoter(safe="?/:@")
    internal static readonly Quoter FragmentRequoter = new("?/:@", "", qs: false, requote: true);
    // yarl: _REQUOTER = _Quoter(), used for the user name and the password.
    internal static readonly Quoter UserInfoRequoter = new("", "", qs: false, requote: true);

    private readonly bool[] _safe = new bool[128];
    private readonly bool[] _protected = new bool[128];
    private readonly bool _qs;
    private readonly bool _requote;

    private Quoter(string safe, string @protected, bool qs, bool requote)
    {
        foreach (var c in Allowed) _safe[c] = true;
        if (!qs) foreach (var c in QsDelims) _safe[c] = true;
        foreach (var c in safe) _safe[c] = true;
        foreach (var c in @protected) { _safe[c] = true; _protected[c] = true; }
        _qs = qs;
        _requote = requote;
    }

    /// <summary>Returns <paramref name="value"/> itself when it is already in canonical form.</summary>
    public string Quote(string value)
    {
        var i = FirstChange(value);
        return i < 0 ? value : Slow(value, i);
    }

    // Index of the first character that the quoter would alter, or -1. This is the allocation-free
    // fast path: a typical "/path?x=1" is scanned once and returned as is.
    private int FirstChange(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c >= 128) return i;
            if (c == '%')
            {
                if (!_requote) return i;
                if (i + 2 >= s.Length) return i;
                var hi = s[i + 1];
                var lo = s[i + 2];
                if (!IsUpperHex(hi) || !IsUpperHex(lo)) return i;
                var b = (HexValue(hi) << 4) | HexValue(lo);
                if (b < 128 && _safe[b] && !_protected[b]) return i; // would be decoded
                i += 2;
                continue;
            }
            if (!_safe[c]) return i;
        }
        return -1;
    }

    private string Slow(string s, int start)
    {
        var sb = new StringBuilder(s.Length + 16);
        sb.Append(s, 0, start);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = start; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '%' && _requote)
            {
                if (i + 2 < s.Length && IsHex(s[i + 1]) && IsHex(s[i + 2]))
                {
                    var b = (HexValue(s[i + 1]) << 4) | HexValue(s[i + 2]);
                    if (b < 128 && _safe[b] && !_protected[b]) sb.Append((char)b);
                    else AppendEscape(sb, (byte)b);
                    i += 2;
                }
                else
                {
                    // A stray '%' cannot be sent literally: the server would read the next two
                    // characters as an escape.
                    sb.Append("%25");
                }
                continue;
            }
            if (c < 128)
            {
                if (_qs && c == ' ') sb.Append('+');
                else if (_safe[c]) sb.Append(c);
                else AppendEscape(sb, (byte)c);
                continue;
            }
            int rune;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                rune = char.ConvertToUtf32(c, s[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                // Callers refuse such text first (StrictEncodings.IndexOfLoneSurrogate); dropping it here would send a different URL.
                throw new ArgumentException($"lone UTF-16 surrogate at index {i}: UTF-8 has no form for it", nameof(s));
            }
            else
            {
                rune = c;
            }
            var n = new Rune(rune).EncodeToUtf8(utf8);
            for (var k = 0; k < n; k++) AppendEscape(sb, utf8[k]);
        }
        return sb.ToString();
    }

    private static void AppendEscape(StringBuilder sb, byte b)
    {
        const string hex = "0123456789ABCDEF";
        sb.Append('%').Append(hex[b >> 4]).Append(hex[b & 15]);
    }

    internal static bool IsHex(char c) => c is >= '0' and <= '9' or >= 'a' and <= 'f' or >= 'A' and <= 'F';
    private static bool IsUpperHex(char c) => c is >= '0' and <= '9' or >= 'A' and <= 'F';
    internal static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>Percent-decodes as UTF-8; invalid escapes and byte sequences are left as they were.</summary>
    public static string Unquote(string s, bool plusIsSpace = false)
    {
        if (s.IndexOf('%') < 0 && (!plusIsSpace || s.IndexOf('+') < 0)) return s;
        var text = plusIsSpace ? s.Replace('+', ' ') : s;
        return Uri.UnescapeDataString(text);
    }
}
