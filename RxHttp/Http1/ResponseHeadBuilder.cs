using System.Text;

namespace RxHttp.Http1;

/// <summary>Collects a parsed head into strings, interning the header names every response repeats.</summary>
internal sealed class ResponseHeadBuilder(HeaderStringCache? cache = null) : IHttpResponseHeadHandler
{
    private int _index;
    public int Major, Minor, Status;
    public string Reason = "";
    private HeaderCollection? _headers;

    public HeaderCollection Headers => _headers ??= new HeaderCollection(0);

    public Version Version => Major == 1 && Minor == 1 ? System.Net.HttpVersion.Version11 : Major == 1 && Minor == 0 ? System.Net.HttpVersion.Version10 : new Version(Major, Minor);

    public void Reset()
    {
        _headers = null;
        _rawExceptions = null;
        Reason = "";
        _index = 0;
    }

    public void OnStatusLine(int versionMajor, int versionMinor, int status, ReadOnlySpan<byte> reason)
    {
        Major = versionMajor;
        Minor = versionMinor;
        Status = status;
        // Decoded as header values are (UTF-8, else Latin-1), as aiohttp decodes its status line: Latin-1 alone
        // turned a UTF-8 reason ("Été") into mojibake.
        Reason = reason.SequenceEqual("OK"u8) ? "OK" : KnownHeaders.Text(reason);
    }

    // The parser reports the count before the first header, so the list is allocated once at its final size.
    public void OnHeaderCount(int count)
    {
        _headers = new HeaderCollection(count);
    }

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var i = _index++;
        var n = cache is null ? KnownHeaders.Name(name) : cache.Name(i, name);
        var v = cache is null ? KnownHeaders.Value(value) : cache.Value(i, value);
        (_headers ??= new HeaderCollection(4)).AddUnchecked(n, v);
        // RawHeaders gives back the bytes from the strings; only a name whose case was canonicalised, or a value
        // that was not UTF-8 (decoded as Latin-1), keeps its bytes here. Both checks are a compare of a few bytes.
        if (!Ascii.Equals(name, n) || (!Ascii.IsValid(value) && !System.Text.Unicode.Utf8.IsValid(value)))
            (_rawExceptions ??= new()).Add((i, name.ToArray(), value.ToArray()));
    }

    private List<(int Index, byte[] Name, byte[] Value)>? _rawExceptions;

    /// <summary>The headers of the last head whose bytes their strings do not give back (see RawHeaders), or null.</summary>
    public List<(int Index, byte[] Name, byte[] Value)>? TakeRawExceptions()
    {
        var taken = _rawExceptions;
        _rawExceptions = null;
        return taken;
    }
}

/// <summary>
/// The header strings of the previous response on one connection, by position. A keep-alive connection to
/// one endpoint sees the same head again and again (Server, Content-Type, Date within the same second, ...),
/// so comparing the bytes with last time's string replaces an allocation with a memcmp. One reader at a time
/// (the connection's exchange), so no locking.
/// </summary>
internal sealed class HeaderStringCache
{
    private const int Slots = 32;
    private const int MaxCachedLength = 256;
    private readonly string?[] _names = new string?[Slots];
    private readonly string?[] _values = new string?[Slots];

    public string Name(int index, ReadOnlySpan<byte> bytes) => Lookup(_names, index, bytes, static b => KnownHeaders.Name(b));

    public string Value(int index, ReadOnlySpan<byte> bytes) => Lookup(_values, index, bytes, static b => KnownHeaders.Value(b));

    private static string Lookup(string?[] slots, int index, ReadOnlySpan<byte> bytes, DecodeSpan decode)
    {
        if ((uint)index >= Slots || bytes.Length > MaxCachedLength) return decode(bytes);
        // Ascii.Equals is false for any non-ASCII byte, so a reused string always equals what decoding would give.
        if (slots[index] is { } last && last.Length == bytes.Length && Ascii.Equals(bytes, last)) return last;
        var s = decode(bytes);
        slots[index] = s;
        return s;
    }

    private delegate string DecodeSpan(ReadOnlySpan<byte> bytes);
}

internal static class KnownHeaders
{
    private static readonly string[] Names =
    {
        "Content-Length", "Content-Type", "Date", "Server", "Connection", "Transfer-Encoding", "Keep-Alive",
        "Content-Encoding", "Cache-Control", "Location", "Set-Cookie", "ETag", "Last-Modified", "Expires", "Vary",
        "Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Pragma", "WWW-Authenticate", "Upgrade",
        "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Retry-After", "Strict-Transport-Security",
    };

    private static readonly string[] Values = { "chunked", "keep-alive", "close", "gzip", "application/json", "text/plain", "no-cache", "bytes", "Kestrel", "nginx", "0" };

    public static string Name(ReadOnlySpan<byte> name)
    {
        foreach (var known in Names)
        {
            if (known.Length == name.Length && Ascii.EqualsIgnoreCase(name, known)) return known;
        }
        return Encoding.ASCII.GetString(name);
    }

    public static string Value(ReadOnlySpan<byte> value)
    {
        if (value.Length <= 16)
        {
            foreach (var known in Values)
                if (known.Length == value.Length && Ascii.Equals(value, known)) return known;
        }
        return Text(value);
    }

    /// <summary>Header values and reason phrases are opaque bytes; UTF-8 as aiohttp decodes them, with Latin-1 for invalid sequences.</summary>
    public static string Text(ReadOnlySpan<byte> value) => Ascii.IsValid(value) ? Encoding.ASCII.GetString(value) : Utf8OrLatin1(value);

    private static string Utf8OrLatin1(ReadOnlySpan<byte> value)
    {
        try
        {
            return StrictEncodings.Utf8.GetString(value);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(value);
        }
    }
}
