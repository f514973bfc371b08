namespace RxHttp;

/// <summary>
/// The RFC 6265 §5.1.1 cookie-date algorithm. It is deliberately loose: servers send RFC 1123, RFC 850
/// ("Sunday, 06-Nov-94"), asctime ("Sun Nov  6 08:49:37 1994") and odder forms, and browsers accept them all,
/// so a DateTime.TryParseExact list would reject cookies real servers send.
/// </summary>
internal static class CookieDate
{
    private static readonly string[] Months = { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };

    /// <summary>Parses <paramref name="text"/>; null when it is not a cookie-date (the Expires attribute is then ignored).</summary>
    public static DateTimeOffset? Parse(string text)
    {
        bool foundTime = false, foundDay = false, foundMonth = false, foundYear = false;
        int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;

        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && IsDelimiter(text[i])) i++;
            int start = i;
            while (i < text.Length && !IsDelimiter(text[i])) i++;
            if (i == start) break;
            var token = text.AsSpan(start, i - start);

            // §5.1.1 step 2: each token is tried against the parts in this order, and a part once found is not looked for again.
            if (!foundTime && TryTime(token, out hour, out minute, out second)) { foundTime = true; continue; }
            if (!foundDay && TryDigits(token, 1, 2, out day)) { foundDay = true; continue; }
            if (!foundMonth && TryMonth(token, out month)) { foundMonth = true; continue; }
            if (!foundYear && TryDigits(token, 2, 4, out year)) { foundYear = true; continue; }
        }

        if (!(foundTime && foundDay && foundMonth && foundYear)) return null;
        if (year is >= 70 and <= 99) year += 1900;
        else if (year is >= 0 and <= 69) year += 2000;
        if (day is < 1 or > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return null;
        // §5.1.1 step 6: "Feb 30" and the like fail rather than roll over.
        if (day > DateTime.DaysInMonth(year, month)) return null;
        return new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero);
    }

    // delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E
    private static bool IsDelimiter(char c) =>
        c == '\x09' || (c >= '\x20' && c <= '\x2F') || (c >= '\x3B' && c <= '\x40') ||
        (c >= '\x5B' && c <= '\x60') || (c >= '\x7B' && c <= '\x7E');

    /// <summary>1*2DIGIT followed by a non-digit or the end (so "123" is no day but "12th" is).</summary>
    private static bool TryDigits(ReadOnlySpan<char> token, int min, int max, out int value)
    {
        value = 0;
        int n = 0;
        while (n < token.Length && char.IsAsciiDigit(token[n])) n++;
        if (n < min || n > max) return false;
        for (int k = 0; k < n; k++) value = value * 10 + (token[k] - '0');
        return true;
    }

    /// <summary>hms-time = 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT, optionally followed by a non-digit and anything.</summary>
    private static bool TryTime(ReadOnlySpan<char> token, out int h, out int m, out int s)
    {
        h = m = s = 0;
        int pos = 0;
        if (!Field(token, ref pos, out h) || pos >= token.Length || token[pos++] != ':') return false;
        if (!Field(token, ref pos, out m) || pos >= token.Length || token[pos++] != ':') return false;
        return Field(token, ref pos, out s);

        static bool Field(ReadOnlySpan<char> t, ref int p, out int v)
        {
            v = 0;
            int begin = p;
            while (p < t.Length && char.IsAsciiDigit(t[p]) && p - begin < 2) v = v * 10 + (t[p++] - '0');
            // A third digit means the field is too long, not that a new part begins.
            return p > begin && (p >= t.Length || !char.IsAsciiDigit(t[p]));
        }
    }

    private static bool TryMonth(ReadOnlySpan<char> token, out int month)
    {
        month = 0;
        if (token.Length < 3) return false;
        var prefix = token[..3];
        for (int k = 0; k < Months.Length; k++)
        {
            if (prefix.Equals(Months[k], StringComparison.OrdinalIgnoreCase)) { month = k + 1; return true; }
        }
        return false;
    }
}
