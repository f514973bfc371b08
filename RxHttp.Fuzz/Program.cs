using RxHttp.Fuzz;
using RxHttp.Fuzz.Targets;

// The fuzz targets, three ways:
//   dotnet run --project RxHttp.Fuzz -c Release -- list
//   dotnet run --project RxHttp.Fuzz -c Release -- run <target|all> [--seconds N | --iterations N] [--seed N] [--out DIR]
//       the seeded-mutation driver (nothing to install); findings are written to DIR/<target>/ (default fuzz-findings)
//   dotnet run --project RxHttp.Fuzz -c Release -- repro <target> <file>...     runs saved inputs once
//   dotnet run --project RxHttp.Fuzz -c Release -- seeds <target> <dir>         writes the seeds as a starting corpus
//   RxHttp.Fuzz libfuzzer <target>    under libfuzzer-dotnet, RxHttp.dll instrumented with the sharpfuzz tool (README)
//   RxHttp.Fuzz afl <target>          under afl-fuzz, the same instrumentation
// Exit code: 0 nothing found, 1 findings, 2 bad arguments.
return Cli.Run(args);

internal static class Cli
{
    public static int Run(string[] args)
    {
        if (args.Length == 0) return Usage();
        try
        {
            return args[0] switch
            {
                "list" => List(),
                "run" when args.Length >= 2 => RunDriver(args[1], args[2..]),
                "repro" when args.Length >= 3 => Repro(AllTargets.Get(args[1]), args[2..]),
                "seeds" when args.Length == 3 => Seeds(AllTargets.Get(args[1]), args[2]),
                "libfuzzer" when args.Length == 2 => LibFuzzer(AllTargets.Get(args[1])),
                "afl" when args.Length == 2 => Afl(AllTargets.Get(args[1])),
                _ => Usage(),
            };
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: RxHttp.Fuzz list | run <target|all> [--seconds N|--iterations N] [--seed N] [--out DIR] | repro <target> <file>... | seeds <target> <dir> | libfuzzer <target> | afl <target>");
        return 2;
    }

    private static int List()
    {
        foreach (var t in AllTargets.Create()) Console.WriteLine($"{t.Name,-20} allowed: {(t.Allowed.Length == 0 ? "none" : string.Join(", ", t.Allowed.Select(a => a.Name)))}");
        return 0;
    }

    private static int RunDriver(string name, string[] options)
    {
        string? Option(string key) => Array.IndexOf(options, key) is var i and >= 0 && i + 1 < options.Length ? options[i + 1] : null;
        var seconds = Option("--seconds") is { } s ? double.Parse(s) : (double?)null;
        var iterations = Option("--iterations") is { } it ? long.Parse(it) : (long?)null;
        if (seconds is null && iterations is null) seconds = 60;
        var seed = Option("--seed") is { } sd ? int.Parse(sd) : 1;
        var outDir = Option("--out") ?? "fuzz-findings";
        var targets = name == "all" ? AllTargets.Create() : [AllTargets.Get(name)];
        var found = 0;
        foreach (var target in targets)
        {
            var report = MutationDriver.Run(target, seed, iterations, seconds is { } sec ? TimeSpan.FromSeconds(sec) : null);
            Console.WriteLine(report);
            foreach (var f in report.Findings)
            {
                var dir = Directory.CreateDirectory(Path.Combine(outDir, target.Name)).FullName;
                var file = Path.Combine(dir, $"{f.Kind}-{Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(f.Input))[..16].ToLowerInvariant()}.bin");
                File.WriteAllBytes(file, f.Input);
                Console.WriteLine($"  {f}\n    saved {file}\n    {f.Detail.Replace("\n", "\n    ")}");
                found++;
            }
        }
        return found == 0 ? 0 : 1;
    }

    private static int Repro(FuzzTarget target, string[] files)
    {
        var failed = 0;
        foreach (var file in files)
        {
            try
            {
                Console.WriteLine($"{file}: {target.Run(File.ReadAllBytes(file))}");
            }
            catch (Exception e)
            {
                Console.WriteLine($"{file}: CRASH {e}");
                failed++;
            }
        }
        return failed == 0 ? 0 : 1;
    }

    private static int Seeds(FuzzTarget target, string dir)
    {
        Directory.CreateDirectory(dir);
        var i = 0;
        foreach (var seed in target.Seeds) File.WriteAllBytes(Path.Combine(dir, $"seed-{i++}"), seed);
        Console.WriteLine($"{i} seeds written to {dir}");
        return 0;
    }

    // libFuzzer and AFL treat any exception escaping the callback as a crash; Run already lets the documented ones pass.
    private static int LibFuzzer(FuzzTarget target)
    {
        SharpFuzz.Fuzzer.LibFuzzer.Run(span => target.Run(span.ToArray()));
        return 0;
    }

    private static int Afl(FuzzTarget target)
    {
        SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            target.Run(ms.ToArray());
        });
        return 0;
    }
}
