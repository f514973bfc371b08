using System.Text;

namespace RxHttp;

/// <summary>
/// A Content-Type header taken apart as aiohttp does: media type and charset. One reader for responses, multipart
/// parts and the request payloads that declare a charset, so each side reads a header the same way.
/// </summary>
internal static class ContentTypeHeader
{
    private static readonly string[] CommonMediaTypes =
        ["application/json", "text/plain", "text/html", "application/octet-stream", "application/xml", "text/xml", "application/x-www-form-urlencoded"];

    // Span-based so a typical "text/plain; charset=utf-8" costs no intermediate strings; same result as
    // splitting on ';', trimming, lower-casing the type and taking the last charset parameter.
    public static void Parse(string? header, out string mediaType, out string? charset)
    {
        mediaType = "application/octet-stream";
        charset = null;
        if (string.IsNullOrWhiteSpace(header)) return;
        var rest = header.AsSpan();
        var semi = rest.IndexOf(';');
        var type = (semi < 0 ? rest : rest[..semi]).Trim();
        if (type.Length > 0) mediaType = MediaType(type);
        // A quoted parameter may hold ';' and "charset=" (x="a;charset=utf-16"): split on every ';', it named the
        // charset in place of the real one. Python's email parser, which aiohttp's charset comes from, keeps quoted
        // strings whole, as HeaderParameters does; unquoted headers keep the split without allocations.
        if (semi >= 0 && rest[semi..].Contains('"'))
        {
            charset = QuotedAwareCharset(header, semi);
            return;
        }
        while (semi >= 0)
        {
            rest = rest[(semi + 1)..];
            semi = rest.IndexOf(';');
            var part = semi < 0 ? rest : rest[..semi];
            var eq = part.IndexOf('=');
            if (eq < 0 || !part[..eq].Trim().Equals("charset", StringComparison.OrdinalIgnoreCase)) continue;
            var value = part[(eq + 1)..].Trim().Trim('"');
            charset = value.Length == 0 ? null : value.Equals("utf-8", StringComparison.Ordinal) ? "utf-8" : value.ToString();
        }
    }

    private static string? QuotedAwareCharset(string header, int semi)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        HeaderParameters.Parse(header, semi, parameters, stopAtComma: false);
        string? charset = null;
        foreach (var (name, value) in parameters)
            if (name == "charset") charset = value.Trim();
        return string.IsNullOrEmpty(charset) ? null : charset;
    }

    /// <summary>
    /// The encoding a charset name stands for, or null when neither .NET nor its code pages know it. .NET alone knows
    /// only the Unicode encodings, ASCII and Latin-1; the code pages servers still declare (windows-1252,
    /// iso-8859-15, koi8-r, shift_jis, gb2312, …) come with .NET's <see cref="CodePagesEncodingProvider"/>, which
    /// only an application should register for the whole process, so it is asked here directly. Python knows them
    /// all, so aiohttp decodes such a body where a lookup without them called the charset unknown and fell back to
    /// strict UTF-8.
    /// </summary>
    public static Encoding? EncodingNamed(string charset)
    {
        if (Known.TryGetValue(charset, out var known)) return known;
        var found = Lookup(charset) ?? (charset.Contains('_') ? Lookup(charset.Replace('_', '-')) : null) ??
            (charset.AsSpan().ContainsAny('-', '_') ? Lookup(charset.Replace("-", "").Replace("_", "")) : null);
        // Bounded: the names come from servers. A site's few charsets are met again and again, and each miss of .NET's
        // own table (every code page, every unknown name) costs a thrown ArgumentException.
        if (Known.Count < KnownMax) Known.TryAdd(charset, found);
        return found;
    }

    internal const int KnownMax = 64;
    internal static int KnownCount => Known.Count; // tests
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Encoding?> Known = new(StringComparer.OrdinalIgnoreCase);

    // Python spells names more ways than .NET's table does: separators are free there ("latin-1", which aiohttp's own
    // FormData(charset="latin-1") declares, or "euc_jp"), so those spellings are tried too, as .NET's "latin1" and
    // "euc-jp".
    private static Encoding? Lookup(string name)
    {
        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
            return CodePagesEncodingProvider.Instance.GetEncoding(name);
        }
    }

    private static string MediaType(ReadOnlySpan<char> type)
    {
        foreach (var known in CommonMediaTypes)
            if (type.Length == known.Length && Ascii.EqualsIgnoreCase(type, known)) return known;
        return type.ToString().ToLowerInvariant();
    }
}
