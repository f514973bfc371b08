using System.Text.Json;

namespace RxHttp;

/// <summary>Saving the jar to a JSON file and loading it back.</summary>
public sealed partial class CookieJar
{
    /// <summary>
    /// Writes the unexpired cookies to <paramref name="path"/> as JSON. On Unix the file gets mode 600 because
    /// cookies are credentials; it is written beside the target and moved over it, so an existing file with
    /// wider permissions is replaced rather than reused.
    /// </summary>
    /// <param name="path">The file to write.</param>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        List<Entry> entries;
        lock (_gate)
        {
            Expire();
            entries = _byDomain.Values.SelectMany(d => d.Values).OrderBy(e => e.Sequence).ToList();
        }
        var file = new CookieFile
        {
            Version = CookieFile.CurrentVersion,
            Cookies = entries.Select(e => CookieRecord.From(e.Cookie)).ToList(),
        };

        var full = System.IO.Path.GetFullPath(path);
        var temp = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var stream = new FileStream(temp, options))
                JsonSerializer.Serialize(stream, file, CookieFileJsonContext.Default.CookieFile);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Replaces the jar's contents with the cookies saved at <paramref name="path"/> by <see cref="Save"/>.
    /// Cookies that have expired since are dropped.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <exception cref="InvalidDataException">The file is not a cookie jar saved by this class; the jar is left unchanged.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public void Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        CookieFile? file;
        try
        {
            using var stream = File.OpenRead(path);
            file = JsonSerializer.Deserialize(stream, CookieFileJsonContext.Default.CookieFile);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a saved cookie jar.", e);
        }
        if (file?.Cookies is null || file.Version != CookieFile.CurrentVersion)
            throw new InvalidDataException($"'{path}' is not a saved cookie jar of version {CookieFile.CurrentVersion}.");

        var cookies = new List<Cookie>(file.Cookies.Count);
        foreach (var r in file.Cookies)
            cookies.Add(r?.ToCookie() ?? throw new InvalidDataException($"'{path}' holds a cookie without a name, value, domain or path."));

        lock (_gate)
        {
            _byDomain.Clear();
            _nextExpiry = DateTimeOffset.MaxValue;
            // Keep saved creation times: they decide send order, and the file order preserves ties.
            foreach (var c in cookies) Insert(c);
            Expire();
        }
    }
}
