using System.Globalization;

namespace RxHttp;

/// <summary>
/// HTTP-date parsing for received fields (RFC 9110 §5.6.7). Recipients SHOULD be lenient, and servers do send
/// "UTC" or "+0000" for "GMT", a one-digit day or hour, a four-digit RFC 850 year or a weekday that does not match
/// the date; HttpClient's parser takes the zone and digit variants, Python's parsedate (aiohttp) also ignores the
/// weekday. Refusing any of them would drop the header and so the server's instruction. Never throws.
/// </summary>
internal static class HttpDate
{
    private static readonly string[] Weekdays = { "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN" };
    private static readonly string[] FullWeekdays = { "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY" };

    // The weekday is cut off before these are tried, which is what lets a wrong one through. "yy" follows
    // the invariant calendar's window (00-49 -> 20xx), as HttpClient's "yy" formats do.
    private static readonly string[] Formats = BuildFormats();

    private static string[] BuildFormats()
    {
        var zones = new[] { " 'GMT'", " 'UTC'", " 'UT'", " 'Z'", " zzz", "" };
        var dates = new[] { "d MMM yyyy", "d MMM yy", "d'-'MMM'-'yy", "d'-'MMM'-'yyyy" };
        var list = new List<string>();
        foreach (var d in dates)
            foreach (var z in zones)
                list.Add(d + " H:m:s" + z);
        list.Add("MMM d H:m:s yyyy");     // asctime, its weekday already cut off
        list.Add("MMM d H:m:s yyyy 'GMT'");
        return list.ToArray();
    }

    /// <summary>The instant <paramref name="text"/> names, or null when it is no HTTP-date in any form seen in use.</summary>
    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        // 'GMT' literals match case-sensitively, and "gmt" is as clear as "GMT".
        var s = text.Trim().ToUpperInvariant().AsSpan();
        s = WithoutWeekday(s);
        if (!DateTimeOffset.TryParseExact(s, Formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal, out var date))
            return null;
        return date.ToUniversalTime();
    }

    private static ReadOnlySpan<char> WithoutWeekday(ReadOnlySpan<char> s)
    {
        int n = 0;
        while (n < s.Length && char.IsAsciiLetterUpper(s[n])) n++;
        var word = s[..n];
        bool isDay = (n == 3 && Weekdays.AsSpan().IndexOf(word.ToString()) >= 0) ||
                     (n > 3 && FullWeekdays.AsSpan().IndexOf(word.ToString()) >= 0);
        if (!isDay) return s;
        s = s[n..].TrimStart();
        if (s.StartsWith(",")) s = s[1..];
        return s.TrimStart();
    }
}
