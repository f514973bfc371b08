namespace RxHttp.Benchmarks;

/// <summary>
/// Whole-machine CPU, the nginx processes' CPU and context switches, read from /proc: what a client costs beyond its
/// own process (the server's work, softirq, the scheduler), which process CPU alone does not show.
/// </summary>
internal readonly record struct SystemCpu(long BusyTicks, long NginxTicks, long ContextSwitches)
{
    public static double TickMicroseconds => 1_000_000.0 / 100; // USER_HZ on Linux

    public static SystemCpu Read()
    {
        long busy = 0, ctxt = 0;
        foreach (var line in File.ReadLines("/proc/stat"))
        {
            if (line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // user nice system idle iowait irq softirq steal
                busy = long.Parse(f[1]) + long.Parse(f[2]) + long.Parse(f[3]) + long.Parse(f[6]) + long.Parse(f[7]) + long.Parse(f[8]);
            }
            else if (line.StartsWith("ctxt ", StringComparison.Ordinal)) ctxt = long.Parse(line[5..]);
        }
        long nginx = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() != "nginx") continue;
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                nginx += long.Parse(f[11]) + long.Parse(f[12]); // utime stime
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return new(busy, nginx, ctxt);
    }

    public string PerRequest(SystemCpu before, double requests) =>
        $"machine {(BusyTicks - before.BusyTicks) * TickMicroseconds / requests,5:0.0} µs, nginx {(NginxTicks - before.NginxTicks) * TickMicroseconds / requests,5:0.0} µs, {(ContextSwitches - before.ContextSwitches) / requests:0.00} context switches per request";
}
