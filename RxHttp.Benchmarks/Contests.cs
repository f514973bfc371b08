using System.Diagnostics;
using System.Globalization;

namespace RxHttp.Benchmarks;

/// <summary>One side of a contest: a figure per round (the mean of its slices).</summary>
internal sealed class Measurement(string name, Func<TimeSpan, Task<double>> run)
{
    public string Name { get; } = name;
    public Func<TimeSpan, Task<double>> Run { get; } = run;
    public List<double> Values { get; } = [];

    /// <summary>
    /// A rate measurement of a shape that runs a fixed number of requests (<c>Range(0, n)...Merge(64)</c>, as users
    /// write it): <paramref name="run"/> takes n and returns how many it completed; n is adjusted after each run so
    /// one run lasts about a slice.
    /// </summary>
    public static Measurement Counted(string name, Func<int, Task<int>> run, int initial = 512)
    {
        var n = initial;
        return new Measurement(name, async slice =>
        {
            var sw = Stopwatch.StartNew();
            var done = await run(n).ConfigureAwait(false);
            var elapsed = sw.Elapsed.TotalSeconds;
            if (done != n) throw new InvalidOperationException($"{name}: {done} of {n} requests completed");
            var rate = done / elapsed;
            n = (int)Math.Clamp(rate * slice.TotalSeconds, 64, 1_000_000);
            return rate;
        });
    }
}

/// <summary>A printed row: <see cref="Subject"/> against <see cref="Peer"/>, as the median of paired-round ratios, against a bar.</summary>
/// <param name="Reference">Another side whose ratio to <paramref name="Peer"/> the label shows (HttpClient against a raw floor: how near the other library gets).</param>
internal sealed record Comparison(string Label, string Unit, Measurement Subject, Measurement Peer, double Bar, bool HigherIsBetter = true, string? Note = null, Measurement? Reference = null);

/// <summary>
/// A group of measurements taken in the same rounds, in interleaved slices whose order alternates (as rows 1 and
/// 2), and the rows comparing them. Each round adds one figure per measurement.
/// </summary>
internal sealed class Contest(string id, IReadOnlyList<Measurement> measurements, IReadOnlyList<Comparison> comparisons, TimeSpan perRound, int slices)
{
    public string Id { get; } = id;
    public IReadOnlyList<Measurement> Measurements { get; } = measurements;
    public IReadOnlyList<Comparison> Comparisons { get; } = comparisons;
    public List<string> Notes { get; } = [];

    public async Task WarmUpAsync()
    {
        foreach (var m in Measurements) await m.Run(perRound / slices).ConfigureAwait(false);
        foreach (var m in Measurements) await m.Run(perRound / slices).ConfigureAwait(false);
    }

    public async Task RunRoundAsync(int round)
    {
        var slice = perRound / slices;
        var means = await Measure.AlternatingAsync(Measurements.Count, slices, round, j => Measurements[j].Run(slice)).ConfigureAwait(false);
        for (var j = 0; j < means.Length; j++) Measurements[j].Values.Add(means[j]);
    }

    public string RoundSummary() => Id + ": " + string.Join(" ", Comparisons.Take(1).Select(c =>
        $"{Fmt(c.Subject.Values[^1])} vs {Fmt(c.Peer.Values[^1])}"));

    /// <summary>Prints the rows; true when every bar is met.</summary>
    public bool Print()
    {
        var allMet = true;
        foreach (var c in Comparisons)
        {
            var ratio = Stats.PairedRatio(c.Subject.Values, c.Peer.Values);
            var met = c.HigherIsBetter ? ratio >= c.Bar : ratio <= c.Bar;
            allMet &= met;
            var label = c.Reference is null ? c.Label : $"{c.Label} ({c.Reference.Name}: {Stats.PairedRatio(c.Reference.Values, c.Peer.Values):0.00} × this floor)";
            Console.WriteLine($"| {label} | {c.Unit} | {Fmt(Stats.Median(c.Subject.Values))} | {c.Peer.Name} {Fmt(Stats.Median(c.Peer.Values))} | " +
                              $"{ratio:0.00} {Stats.Spread(c.Subject.Values, c.Peer.Values)} | {(c.HigherIsBetter ? "≥" : "≤")} {c.Bar:0.0#} | {(met ? "yes" : "no")} |");
            if (c.Note is not null) Console.WriteLine($"|   ({c.Note}) | | | | | | |");
        }
        foreach (var n in Notes) Console.WriteLine($"|   ({n}) | | | | | | |");
        return allMet;
    }

    public static string Fmt(double v) => double.IsNaN(v) ? "n/a" : v >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.0", CultureInfo.InvariantCulture);
}

/// <summary>The ratio statistics every row uses (see LoadRunner's comment on pairing).</summary>
internal static class Stats
{
    // One ratio per pair of rounds (the geometric mean of their two ratios), then the median of those. Within a round
    // both figures were measured side by side, so the machine's drift between rounds cancels out of their ratio; and
    // the two rounds of a pair run the clients in opposite orders, which cancels the advantage of going second
    // (measured on uploads: about 10% for either client). A median of single rounds would lean to whichever order
    // had more rounds, and a ratio of medians would mix figures of different rounds.
    public static List<double> PairRatios(List<double> a, List<double> b)
    {
        var ratios = a.Zip(b, (x, y) => x / y).ToList();
        var pairs = new List<double>();
        for (var i = 0; i + 1 < ratios.Count; i += 2) pairs.Add(Math.Sqrt(ratios[i] * ratios[i + 1]));
        return pairs;
    }

    public static double PairedRatio(List<double> a, List<double> b) => Median(PairRatios(a, b));

    /// <summary>The run's <c>--verbose</c>: the spread column lists every pair's ratio too.</summary>
    public static bool Verbose { get; set; }

    // The middle half of the pairs' ratios: how far one pair strays, so a bar met by a hair reads as such.
    public static string Spread(List<double> a, List<double> b)
    {
        var pairs = PairRatios(a, b).Order().ToArray();
        if (Verbose) return "[" + string.Join(" ", pairs.Select(p => p.ToString("0.00", CultureInfo.InvariantCulture))) + "]";
        return pairs.Length < 3 ? "" : string.Create(CultureInfo.InvariantCulture, $"({pairs[pairs.Length / 4]:0.00}–{pairs[(pairs.Length * 3 - 1) / 4]:0.00})");
    }

    public static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
