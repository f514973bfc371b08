using System.Text;

namespace RxHttp.Fuzz.Targets;

/// <summary>
/// Set-Cookie: the parser never throws (a header it cannot use is dropped), and the jar stores and sends back
/// only what it can: no control character in a name or value sent back, no exception for any header and host.
/// </summary>
public sealed class SetCookieTarget : FuzzTarget
{
    public override string Name => "set-cookie";
    public override Type[] Allowed => [];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        B("sid=abc123; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Lax"),
        B("a=b; Expires=Wed, 09 Jun 2021 10:18:14 GMT; Max-Age=3600"),
        B("\"quoted\"=\"v a l\"; domain=.EXAMPLE.com.; path=/x/y"),
        B("=novalue; Max-Age=-1"),
        B("n=v;;;  ; Domain=co.uk; Path"),
        B("x=\u00ff\u0001; expires=Sun, 06-Nov-94 08:49:37 GMT"),
    ];

    public override IReadOnlyList<byte[]> Tokens =>
        [B("; "), B("="), B("Domain="), B("Path="), B("Expires="), B("Max-Age="), B("Secure"), B("HttpOnly"), B("SameSite="), B("\""), B("."), B("example.com")];

    protected override string Execute(byte[] input)
    {
        var header = Encoding.Latin1.GetString(input);
        var parsed = SetCookieParser.Parse(header);
        var jar = new CookieJar(allowIpHosts: true);
        jar.UpdateCookies([header], new Uri("https://www.example.com/a/b"));
        foreach (var (name, value) in jar.FilterCookies(new Uri("https://www.example.com/a/b/c")))
            if ((name + value).Any(c => c < 0x20 && c != '\t' || c == 0x7F))
                throw new InvariantViolation($"the jar sends back a control character in {name}={value}");
        return parsed is null ? "dropped" : $"ok:{parsed.Domain is not null}:{parsed.Path is not null}:{parsed.Expires is not null}:{parsed.MaxAge is not null}";
    }
}

/// <summary>The cookie-date algorithm (RFC 6265 §5.1.1): never throws, and a date it returns is one the RFC allows.</summary>
public sealed class CookieDateTarget : FuzzTarget
{
    public override string Name => "cookie-date";
    public override Type[] Allowed => [];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        B("Wed, 09 Jun 2021 10:18:14 GMT"), B("Sunday, 06-Nov-94 08:49:37 GMT"), B("Sun Nov  6 08:49:37 1994"),
        B("1 jan 1601 00:00:00"), B("31 Dec 9999 23:59:59"), B("29 Feb 2001 1:2:3"), B("69 jan 1 0:0:0"),
    ];

    public override IReadOnlyList<byte[]> Tokens => [B(" "), B(":"), B(","), B("-"), B("jan"), B("feb"), B("GMT"), B("99"), B("1600"), B("70")];

    protected override string Execute(byte[] input)
    {
        var date = CookieDate.Parse(Encoding.Latin1.GetString(input));
        if (date is not { } d) return "none";
        if (d.Year < 1601 || d.Offset != TimeSpan.Zero) throw new InvariantViolation($"returned {d:O}, which §5.1.1 rejects");
        return "date";
    }
}

/// <summary>URL parsing: only <see cref="InvalidUrl"/> for bad input, and a parsed URL reparses from its text to itself
/// and converts to a <see cref="Uri"/>.</summary>
public sealed class UrlTarget : FuzzTarget
{
    public override string Name => "url";
    public override Type[] Allowed => [typeof(InvalidUrl)];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        Encoding.UTF8.GetBytes("http://user:pass@example.com:8080/a/b/../c?x=1&y=%20#frag"),
        Encoding.UTF8.GetBytes("https://[::1]:443/%7Euser/ä?q=ü"),
        Encoding.UTF8.GetBytes("http://bücher.example/path with space"),
        Encoding.UTF8.GetBytes("//host/relative"), Encoding.UTF8.GetBytes("../up?only"), Encoding.UTF8.GetBytes("ws://h:65535/"),
        Encoding.UTF8.GetBytes("\u0001http://e.com/%zz%"),
    ];

    public override IReadOnlyList<byte[]> Tokens => [B("://"), B("@"), B(":"), B("/"), B("?"), B("#"), B("%"), B("%2F"), B("["), B("]"), B(".."), B("xn--")];

    protected override string Execute(byte[] input)
    {
        var encoded = input.Length > 0 && (input[0] & 1) == 1;
        var text = Encoding.UTF8.GetString(input);
        var url = Url.Parse(text, encoded);
        var again = Url.Parse(url.ToString(), encoded);
        if (again.ToString() != url.ToString())
            throw new InvariantViolation($"'{url}' reparses as '{again}'");
        // The cookie jar is handed a request's URL as a System.Uri: one that parses must convert.
        if (Url.DefaultPort(url.Scheme) != 0 && url.Host.Length != 0) url.ToUri();
        return $"{url.IsAbsolute}:{(url.Scheme is "" or "http" or "https" or "ws" or "wss" ? url.Scheme : "other")}";
    }
}

/// <summary>The multipart reader: the same parts and the same failure whether the body arrives whole or in two pieces.</summary>
public sealed class MultipartTarget : FuzzTarget
{
    public override string Name => "multipart";
    public override Type[] Allowed => [typeof(ClientPayloadError)];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        B("--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--xyz\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--xyz--\r\n"),
        B("preamble\r\n--xyz\r\n\r\n\r\n--xyz--epilogue"),
        B("--xyz  \r\nX: y\r\n\r\nbody with --xy inside\r\n--xyz--"),
        B("--xyz\r\nContent-Disposition: attachment; filename*=UTF-8''na%C3%AFve.txt\r\n\r\nA\r\n--xyz--\r\n"),
    ];

    public override IReadOnlyList<byte[]> Tokens => [B("--xyz"), B("\r\n"), B("--"), B(": "), B("\r\n--xyz--"), B("\r\n\r\n")];

    protected override string Execute(byte[] input)
    {
        var whole = Outcome(() => Parse(input, input.Length));
        foreach (var k in SplitPoints(input.Length)) Same(whole, Outcome(() => Parse(input, k)), k);
        return whole.StartsWith("E:", StringComparison.Ordinal) ? whole : "parts:" + whole.Count(c => c == '#');
    }

    private static string Parse(byte[] input, int cut)
    {
        var parser = new MultipartParser("xyz", 64 * 1024);
        var parts = new List<ReceivedPart>();
        parser.Push(input.AsSpan(0, cut), parts);
        parser.Push(input.AsSpan(cut), parts);
        parser.Complete(parts);
        return string.Concat(parts.Select(p =>
            "#" + string.Join(",", p.Headers.Select(h => h.Key + "=" + h.Value)) + ":" + Convert.ToHexString(p.Content)));
    }
}

/// <summary>Link headers (RFC 8288): lenient, so nothing is thrown; every link returned is an absolute URL.</summary>
public sealed class LinkTarget : FuzzTarget
{
    private static readonly Url Base = Url.Parse("https://api.example.com/v1/items?page=2");

    public override string Name => "link";
    public override Type[] Allowed => [];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        B("<https://api.example.com/v1/items?page=3>; rel=\"next\", </v1/items?page=1>; rel=prev; title*=UTF-8'de'n%c3%a4chstes"),
        B("<a>;rel=\"x y\";anchor=\"#z\",<b>"),
        B("<//other/>; rel=\"a,b\"; x=\"quoted \\\" still\""),
        B("garbage, <ok>; rel=ok"),
    ];

    public override IReadOnlyList<byte[]> Tokens => [B("<"), B(">"), B("; "), B(", "), B("rel="), B("\""), B("*="), B("'"), B("%")];

    protected override string Execute(byte[] input)
    {
        var links = WebLinks.Parse([Encoding.UTF8.GetString(input)], Base);
        foreach (var link in links)
            if (!link.Url.IsAbsolute) throw new InvariantViolation($"link '{link.Url}' is not absolute");
        return "links:" + Math.Min(links.Count, 4);
    }
}

/// <summary>
/// Content-Disposition (RFC 6266, 8187, 2231): lenient, never throws; a file name it finds survives being written into
/// a header by the multipart writer's formatter and read back.
/// </summary>
public sealed class ContentDispositionTarget : FuzzTarget
{
    public override string Name => "content-disposition";
    public override Type[] Allowed => [];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        B("attachment; filename=\"report.pdf\""),
        B("attachment; filename*=UTF-8''%e2%82%ac%20rates.txt; filename=\"fallback\""),
        B("form-data; name=field; filename*0=\"a\"; filename*1=\"b.txt\""),
        B("inline; filename*=iso-8859-1'en'%A3%20rates"),
        B("attachment; filename=\"quo\\\"ted\\\\.txt\"; size=10"),
    ];

    public override IReadOnlyList<byte[]> Tokens => [B("; "), B("filename="), B("filename*="), B("filename*0="), B("UTF-8''"), B("\""), B("%"), B("\\"), B("name=")];

    protected override string Execute(byte[] input)
    {
        var cd = ContentDisposition.Parse(Encoding.UTF8.GetString(input));
        if (cd is null) return "none";
        if (cd.FileName is { } name && name.IndexOf('\0') < 0 && Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(name)) == name)
        {
            var again = ContentDisposition.Parse(ContentDisposition.Format("attachment", null, name, null));
            if (again?.FileName != name) throw new InvariantViolation($"file name '{name}' reads back as '{again?.FileName}'");
        }
        return $"{cd.Type.Length > 0}:{cd.FileName is not null}";
    }
}
