using System.Text;

namespace RxHttp;

/// <summary>
/// Basic credentials from a netrc file for <see cref="ClientSessionOptions.TrustEnv"/>, as aiohttp's
/// <c>netrc_from_env</c> and <c>basicauth_from_netrc</c> read it: the file named by <c>NETRC</c>, else
/// <c>~/.netrc</c> (<c>~/_netrc</c> on Windows); the host's <c>machine</c> entry, else the <c>default</c> one; the
/// user is <c>login</c>, else <c>account</c>. A file that is missing, unreadable or malformed gives no credentials,
/// as in aiohttp (which only logs a warning).
/// </summary>
internal static class Netrc
{
    private sealed record Parsed(string Path, DateTime Written, long Length, IReadOnlyDictionary<string, (string? Login, string? Account, string? Password)> Hosts);

    private static Parsed? _last;

    /// <summary>The credentials for <paramref name="host"/>, or null.</summary>
    public static BasicAuth? For(string host, Func<string, string?> environment)
    {
        var path = PathFrom(environment);
        if (path is null) return null;
        var hosts = Load(path);
        if (hosts is null) return null;
        if (!hosts.TryGetValue(host, out var entry) && !hosts.TryGetValue("", out entry)) return null;
        var user = !string.IsNullOrEmpty(entry.Login) || entry.Account is null ? entry.Login ?? "" : entry.Account;
        var password = entry.Password ?? "";
        // Latin-1 as any BasicAuth; a file written with characters beyond it sends them as UTF-8, as curl sends the file's bytes.
        var encoding = BasicAuth.CanEncode(user, Encoding.Latin1) && BasicAuth.CanEncode(password, Encoding.Latin1) ? Encoding.Latin1 : Encoding.UTF8;
        return new BasicAuth(user, password, encoding);
    }

    private static string? PathFrom(Func<string, string?> environment)
    {
        if (environment("NETRC") is { } named) return named;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home)) return null;
        return System.IO.Path.Combine(home, OperatingSystem.IsWindows() ? "_netrc" : ".netrc");
    }

    // Read again only when the file changed: TrustEnv looks it up for every request, as aiohttp does.
    private static IReadOnlyDictionary<string, (string? Login, string? Account, string? Password)>? Load(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return null;
            var last = Volatile.Read(ref _last);
            if (last is not null && last.Path == path && last.Written == info.LastWriteTimeUtc && last.Length == info.Length) return last.Hosts;
            var hosts = Parse(File.ReadAllText(path));
            Volatile.Write(ref _last, new Parsed(path, info.LastWriteTimeUtc, info.Length, hosts));
            return hosts;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Python's netrc grammar: <c>machine</c>/<c>default</c> entries, <c>macdef</c> bodies skipped, <c>#</c> comments. Default entry under "".</summary>
    internal static Dictionary<string, (string? Login, string? Account, string? Password)> Parse(string text)
    {
        var hosts = new Dictionary<string, (string?, string?, string?)>(StringComparer.OrdinalIgnoreCase);
        var lexer = new Lexer(text);
        string? token = lexer.Next();
        while (token is not null)
        {
            string name;
            if (token == "machine") name = lexer.Next() ?? throw new FormatException("netrc: machine without a name");
            else if (token == "default") name = "";
            else if (token == "macdef")
            {
                lexer.Next();
                lexer.SkipMacro();
                token = lexer.Next();
                continue;
            }
            else throw new FormatException($"netrc: unexpected '{token}'");
            string? login = null, account = null, password = null;
            while ((token = lexer.Next()) is not null and not ("machine" or "default" or "macdef"))
            {
                var value = lexer.Next() ?? throw new FormatException($"netrc: '{token}' without a value");
                switch (token)
                {
                    case "login" or "user": login = value; break;
                    case "account": account = value; break;
                    case "password": password = value; break;
                    default: throw new FormatException($"netrc: unknown token '{token}'");
                }
            }
            hosts[name] = (login, account, password);
        }
        return hosts;
    }

    private sealed class Lexer(string text)
    {
        private int _at;

        public string? Next()
        {
            while (true)
            {
                while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
                if (_at >= text.Length) return null;
                if (text[_at] != '#') break;
                while (_at < text.Length && text[_at] != '\n') _at++;
            }
            var sb = new System.Text.StringBuilder();
            if (text[_at] == '"')
            {
                _at++;
                while (_at < text.Length && text[_at] != '"')
                {
                    if (text[_at] == '\\' && _at + 1 < text.Length) _at++;
                    sb.Append(text[_at++]);
                }
                _at++;
                return sb.ToString();
            }
            while (_at < text.Length && !char.IsWhiteSpace(text[_at]))
            {
                if (text[_at] == '\\' && _at + 1 < text.Length) _at++;
                sb.Append(text[_at++]);
            }
            return sb.ToString();
        }

        // A macro's body runs to the first empty line.
        public void SkipMacro()
        {
            var blank = text.IndexOf("\n\n", _at, StringComparison.Ordinal);
            _at = blank < 0 ? text.Length : blank + 2;
        }
    }
}
