using System.Globalization;

namespace RxHttp.Benchmarks;

/// <summary>The measuring modes' <c>--name value</c> options: the value after the name, else the fallback.</summary>
internal static class ModeArgs
{
    public static string? Text(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    public static string Text(string[] args, string name, string fallback) => Text(args, name) ?? fallback;

    public static int Int(string[] args, string name, int fallback) => Text(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public static double Number(string[] args, string name, double fallback) => Text(args, name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
