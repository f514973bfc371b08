namespace RxHttp.Soak;

/// <summary>What the kernel says about this process: open descriptors and resident memory (Linux /proc).</summary>
public static class ProcessFigures
{
    /// <summary>Open file descriptors of this process.</summary>
    public static int OpenDescriptors() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    /// <summary>
    /// Open socket descriptors of this process: what a leaked connection holds. (Other descriptors come and go with
    /// the runtime: an assembly loaded on first use, a pdb read for a stack trace.)
    /// </summary>
    public static int SocketDescriptors() => DescriptorTargets().Count(t => t.StartsWith("socket:", StringComparison.Ordinal));

    /// <summary>What each open descriptor points at ("socket:[123]", "anon_inode:[eventpoll]", a path), for a leak report.</summary>
    public static IReadOnlyList<string> DescriptorTargets() =>
        Directory.GetFileSystemEntries("/proc/self/fd").Select(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget ?? "?";
            }
            catch (IOException)
            {
                return "closed";
            }
        }).ToList();

    /// <summary>A field of /proc/self/status in bytes (VmRSS, VmHWM, …).</summary>
    public static long StatusBytes(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
            return long.Parse(kb) * 1024;
        }
        throw new InvalidOperationException($"/proc/self/status has no {field}.");
    }

    /// <summary>
    /// Resets the peak resident size (VmHWM) to the current one (writing 5 to clear_refs, Linux 4.0+), so a
    /// scenario's peak is measured from here; false when the kernel refuses, and the old peak stays.
    /// </summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
