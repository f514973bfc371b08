namespace RxHttp.Cli;

/// <summary>
/// --session NAME: the session's cookie jar, loaded from and saved to a file with the library's
/// <see cref="CookieJar.Load"/> and <see cref="CookieJar.Save"/> (mode 600). NAME with a slash or ending in .json
/// is a path; otherwise the file is <c>$RXHTTP_CONFIG_DIR/sessions/HOST_PORT/NAME.json</c>, the directory
/// defaulting to <c>$XDG_CONFIG_HOME/rxhttp</c> or <c>~/.config/rxhttp</c>, kept per host as httpie does.
/// </summary>
internal sealed class CookieSession
{
    private readonly string? _path;

    private CookieSession(CookieJar jar, string? path)
    {
        Jar = jar;
        _path = path;
    }

    /// <summary>Accepts IP hosts: a CLI is pointed at 127.0.0.1 as often as at a name.</summary>
    public CookieJar Jar { get; }

    public static CookieSession Open(CliSettings s, CliIO io, string url)
    {
        var jar = new CookieJar(allowIpHosts: true);
        if (s.Session is not { } name) return new CookieSession(jar, null);
        var path = PathFor(name, io, url);
        if (File.Exists(path))
        {
            try { jar.Load(path); }
            catch (InvalidDataException e) { throw new UsageException($"--session: {e.Message}"); }
        }
        return new CookieSession(jar, path);
    }

    public void Save()
    {
        if (_path is null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        Jar.Save(_path);
    }

    public static string PathFor(string name, CliIO io, string url)
    {
        if (name.Contains('/') || name.Contains('\\') || name.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return Path.GetFullPath(name);
        if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name is "." or "..")
            throw new UsageException($"--session: '{name}' is not a usable name");
        var dir = io.Env("RXHTTP_CONFIG_DIR") is { Length: > 0 } c ? c
            : io.Env("XDG_CONFIG_HOME") is { Length: > 0 } x ? Path.Combine(x, "rxhttp")
            : Path.Combine(io.Env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "rxhttp");
        var u = Url.Parse(url);
        return Path.Combine(dir, "sessions", $"{u.Host}_{u.Port}", name + ".json");
    }
}
