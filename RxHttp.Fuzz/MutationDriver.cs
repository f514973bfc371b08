using System.Diagnostics;

namespace RxHttp.Fuzz;

/// <summary>What a fuzzing run found: an input and what it did (an unexpected exception, a broken invariant, a hang).</summary>
public sealed record FuzzFinding(string Target, byte[] Input, string Kind, string Detail)
{
    public override string ToString() => $"{Target}: {Kind}: {Detail.Split('\n')[0]} (input {Input.Length} bytes)";
}

/// <summary>The figures of one run.</summary>
public sealed record FuzzReport(string Target, long Executions, int Corpus, int Outcomes, IReadOnlyList<FuzzFinding> Findings, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"{Target,-20} {Executions,10:N0} execs  {Corpus,5} corpus  {Outcomes,5} distinct outcomes  {Findings.Count} findings  {Elapsed.TotalSeconds:F1} s";
}

/// <summary>
/// The seeded-mutation driver: needs nothing installed. Starts from the target's seeds, mutates deterministically, and
/// keeps every input that produced an outcome not seen before (a rejection with a new message, a result of a new
/// shape) as a parent for further mutation: a coarse stand-in for coverage feedback. Each execution runs under a
/// watchdog; one that runs past <c>hangLimit</c> is reported as a hang.
/// </summary>
public static class MutationDriver
{
    public static FuzzReport Run(FuzzTarget target, int seed, long? iterations = null, TimeSpan? duration = null,
        int maxLength = 16 * 1024, TimeSpan? hangLimit = null, int maxFindings = 10)
    {
        var limit = hangLimit ?? TimeSpan.FromSeconds(10);
        var corpus = new List<byte[]>(target.Seeds);
        var outcomes = new HashSet<string>();
        var findings = new List<FuzzFinding>();
        var findingKeys = new HashSet<string>();
        var mutator = new Mutator(seed, target.Tokens, maxLength);
        var clock = Stopwatch.StartNew();
        long executions = 0;
        byte[]? current = null;
        long startedAt = 0;
        var done = false;

        void Execute(byte[] input)
        {
            Volatile.Write(ref current, input);
            Volatile.Write(ref startedAt, Stopwatch.GetTimestamp());
            try
            {
                if (outcomes.Add(target.Run(input)) && corpus.Count < 2000) corpus.Add(input);
            }
            catch (Exception e)
            {
                var kind = e is InvariantViolation ? "invariant" : "exception";
                // One finding per distinct failure: the type and where it was thrown.
                var key = e.GetType().FullName + "@" + (e.StackTrace?.Split('\n').FirstOrDefault()?.Trim() ?? "") + (e is InvariantViolation ? new string(e.Message.Split('\n')[0].Where(c => !char.IsDigit(c)).ToArray()) : "");
                if (findingKeys.Add(key)) findings.Add(new FuzzFinding(target.Name, input, kind, e.ToString()));
            }
            executions++;
            Volatile.Write(ref startedAt, 0);
        }

        var worker = new Thread(() =>
        {
            foreach (var s in target.Seeds) Execute(s);
            var random = new Random(seed);
            while (findings.Count < maxFindings && (iterations is null || executions < iterations) && (duration is null || clock.Elapsed < duration))
                Execute(mutator.Mutate(corpus[random.Next(corpus.Count)], corpus));
            Volatile.Write(ref done, true);
        }, 16 * 1024 * 1024) { IsBackground = true, Name = "fuzz " + target.Name };
        worker.Start();

        while (!Volatile.Read(ref done))
        {
            if (worker.Join(50)) break;
            var started = Volatile.Read(ref startedAt);
            if (started != 0 && Stopwatch.GetElapsedTime(started) > limit)
            {
                // The worker cannot be stopped; it is a background thread and the report says what hung.
                var input = Volatile.Read(ref current) ?? [];
                findings.Add(new FuzzFinding(target.Name, input, "hang", $"one execution ran longer than {limit.TotalSeconds} s"));
                return new FuzzReport(target.Name, executions, corpus.Count, outcomes.Count, findings, clock.Elapsed);
            }
        }
        return new FuzzReport(target.Name, executions, corpus.Count, outcomes.Count, findings, clock.Elapsed);
    }
}
