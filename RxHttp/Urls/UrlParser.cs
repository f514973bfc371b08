using System.Globalization;

namespace RxHttp;

/// <summary>
/// Splits a URL string with the RFC 3986 appendix B grammar and canonicalises each part. Written by hand
/// so a URL that is already canonical (the common case: a literal like http://127.0.0.1:5000/path?x=1)
/// costs one scan and a few substrings, and its string is reused as the canonical form.
/// </summary>
internal static class UrlParser
{
    public static Url Parse(string s, bool encoded)
    {
        var bad = s.AsSpan().IndexOfAny('\r', '\n', '\0');
        if (bad >= 0)
            throw new InvalidUrl(s, $"contains {Url.Printable(s[bad])}: CR, LF and NUL could split or end the request line");
        var lone = StrictEncodings.IndexOfLoneSurrogate(s);
        if (lone >= 0)
            throw new InvalidUrl(s, $"lone UTF-16 surrogate \\u{(int)s[lone]:X4} at index {lone}: UTF-8 has no form for it");

        var changed = false;
        var pos = 0;

        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
        var scheme = "";
        if (s.Length > 0 && char.IsAsciiLetter(s[0]))
        {
            var i = 1;
            while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] is '+' or '-' or '.')) i++;
            if (i < s.Length && s[i] == ':')
            {
                scheme = KnownScheme(s.AsSpan(0, i), out var wasLower);
                changed |= !wasLower;
                pos = i + 1;
            }
        }

        var hashAt = s.IndexOf('#', pos);
        var end = hashAt < 0 ? s.Length : hashAt;
        var qAt = s.IndexOf('?', pos, end - pos);
        var hierEnd = qAt < 0 ? end : qAt;

        string? rawUser = null, rawPassword = null;
        var hasAuthority = false;
        var host = "";
        int? port = null;
        if (hierEnd - pos >= 2 && s[pos] == '/' && s[pos + 1] == '/')
        {
            hasAuthority = true;
            var authStart = pos + 2;
            var authEnd = s.IndexOf('/', authStart, hierEnd - authStart);
            if (authEnd < 0) authEnd = hierEnd;
            ParseAuthority(s, authStart, authEnd, ref changed, out rawUser, out rawPassword, out host, out port);
            pos = authEnd;
        }

        var rawPath = s.Substring(pos, hierEnd - pos);
        var rawQuery = qAt < 0 ? "" : s.Substring(qAt + 1, end - qAt - 1);
        var rawFragment = hashAt < 0 ? null : s[(hashAt + 1)..];
        if (qAt >= 0 && rawQuery.Length == 0) changed = true; // the empty "?" is dropped

        string path, query;
        string? fragment;
        if (encoded)
        {
            CheckEncoded(s, rawPath, "path");
            CheckEncoded(s, rawQuery, "query");
            path = rawPath;
            query = rawQuery;
            fragment = rawFragment;
        }
        else
        {
            path = Quoter.PathRequoter.Quote(rawPath);
            // yarl normalises only URLs with a host: in a relative reference ".." is meaningful until joined.
            if (hasAuthority) path = Url.RemoveDotSegments(path);
            query = Quoter.QueryRequoter.Quote(rawQuery);
            fragment = rawFragment is null ? null : Quoter.FragmentRequoter.Quote(rawFragment);
            changed |= !ReferenceEquals(path, rawPath) || !ReferenceEquals(query, rawQuery) || !ReferenceEquals(fragment, rawFragment);
        }
        if (scheme.Length != 0 && hasAuthority && path.Length == 0)
        {
            path = "/";
            changed = true;
        }
        return Url.Create(scheme, rawUser, rawPassword, hasAuthority, host, port, path, qAt >= 0, query, fragment,
            changed ? null : s);
    }

    private static string KnownScheme(ReadOnlySpan<char> span, out bool wasLower)
    {
        wasLower = true;
        foreach (var c in span)
            if (char.IsAsciiLetterUpper(c)) { wasLower = false; break; }
        // Interned literals for the schemes every request uses, so parsing them allocates nothing.
        if (span.Equals("http", StringComparison.OrdinalIgnoreCase)) return "http";
        if (span.Equals("https", StringComparison.OrdinalIgnoreCase)) return "https";
        if (span.Equals("ws", StringComparison.OrdinalIgnoreCase)) return "ws";
        if (span.Equals("wss", StringComparison.OrdinalIgnoreCase)) return "wss";
        return span.ToString().ToLowerInvariant();
    }

    private static void ParseAuthority(string s, int start, int end, ref bool changed,
        out string? rawUser, out string? rawPassword, out string host, out int? port)
    {
        rawUser = null;
        rawPassword = null;
        var at = s.LastIndexOf('@', end - 1, end - start);
        var hostStart = start;
        if (at >= 0)
        {
            var colon = s.IndexOf(':', start, at - start);
            var user = colon < 0 ? s.Substring(start, at - start) : s.Substring(start, colon - start);
            var password = colon < 0 ? null : s.Substring(colon + 1, at - colon - 1);
            if (user.Length == 0 && string.IsNullOrEmpty(password))
            {
                // "http://@h/" and "http://:@h/" carry no credentials (yarl and WHATWG drop the "@"); kept, they were
                // sent as "Authorization: Basic Og==", an empty login a server may refuse where it wanted none.
                changed = true;
            }
            else
            {
                // Requoted even in encoded mode: user information is never sent as written (it becomes an Authorization
                // header, decoded, which requoting does not change), and kept raw a '\' or '"' made the URL one that
                // System.Uri, which the cookie jar takes, refuses.
                rawUser = Quoter.UserInfoRequoter.Quote(user);
                rawPassword = password is null ? null : Quoter.UserInfoRequoter.Quote(password);
                changed |= !ReferenceEquals(rawUser, user) || !ReferenceEquals(rawPassword, password);
            }
            hostStart = at + 1;
        }

        int portStart;
        bool bracketed;
        string rawHost;
        if (hostStart < end && s[hostStart] == '[')
        {
            var close = s.IndexOf(']', hostStart, end - hostStart);
            if (close < 0) throw new InvalidUrl(s, "unclosed '[' in host");
            rawHost = s.Substring(hostStart + 1, close - hostStart - 1);
            bracketed = true;
            if (close + 1 < end && s[close + 1] != ':') throw new InvalidUrl(s, "unexpected text after the IPv6 address");
            portStart = close + 1 < end ? close + 2 : -1;
        }
        else
        {
            var colon = s.LastIndexOf(':', end - 1, end - hostStart);
            rawHost = colon < 0 ? s.Substring(hostStart, end - hostStart) : s.Substring(hostStart, colon - hostStart);
            bracketed = false;
            portStart = colon < 0 ? -1 : colon + 1;
            if (rawHost.Contains('[') || rawHost.Contains(']')) throw new InvalidUrl(s, "'[' or ']' in a host that is not an IPv6 literal");
        }

        host = Url.NormalizeHost(s, rawHost, bracketed);
        changed |= !string.Equals(host, rawHost, StringComparison.Ordinal);

        port = null;
        if (portStart >= 0)
        {
            var digits = s.AsSpan(portStart, end - portStart);
            if (digits.Length == 0)
            {
                changed = true; // "host:" means the default port; the colon is dropped
            }
            else
            {
                foreach (var c in digits)
                    if (!char.IsAsciiDigit(c)) throw new InvalidUrl(s, $"invalid port '{digits}': not a number");
                // Leading zeros do not count against the five digits ("0008080" is 8080 to yarl, WHATWG and System.Uri).
                var significant = digits.TrimStart('0');
                var p = 0;
                if (significant.Length > 5 || (!significant.IsEmpty && !int.TryParse(significant, NumberStyles.None, CultureInfo.InvariantCulture, out p)) || p > 65535)
                    throw new InvalidUrl(s, $"port {digits} is out of range 0-65535");
                port = p;
                if (digits.Length > 1 && digits[0] == '0') changed = true; // "080" is written back as "80"
            }
        }
    }

    // In encoded mode the text goes on the request line as given, so anything that would end or split
    // the request-target there is refused instead of silently escaped.
    private static void CheckEncoded(string s, string part, string what)
    {
        foreach (var c in part)
            if (c <= ' ' || c == '\x7f')
                throw new InvalidUrl(s, $"{(c == ' ' ? "space" : Url.Printable(c))} in the {what} of an encoded URL");
    }
}
