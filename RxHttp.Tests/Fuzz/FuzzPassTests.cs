using NUnit.Framework;
using RxHttp.Fuzz;
using RxHttp.Fuzz.Targets;

namespace RxHttp.Tests.Fuzz;

/// <summary>
/// The short deterministic fuzz pass of CI: every target of RxHttp.Fuzz, a fixed seed and a fixed number of mutated
/// inputs (about 20 s in all), must end with no finding: only documented exceptions, no broken invariant (whole
/// versus split, round trips), no hang, no allocation over budget. Longer runs: RxHttp.Fuzz's <c>run</c> command.
/// </summary>
[TestFixture]
public class FuzzPassTests
{
    // Sized to about 1.5 s per target on a 2-core machine.
    private static readonly Dictionary<string, long> Iterations = new()
    {
        ["head"] = 1_500, ["chunked"] = 1_500, ["framing"] = 20_000, ["gzip"] = 1_000, ["deflate"] = 400, ["br"] = 3_000, ["zstd"] = 1_000,
        ["websocket"] = 6_000, ["websocket-deflate"] = 2_000, ["set-cookie"] = 10_000, ["cookie-date"] = 100_000,
        ["url"] = 20_000, ["multipart"] = 2_500, ["link"] = 25_000, ["content-disposition"] = 25_000,
        ["eventstream"] = 20_000, ["socks"] = 25_000,
    };

    public static IEnumerable<string> Targets => AllTargets.Create().Select(t => t.Name);

    [Test]
    public void Every_target_has_a_pass() => Assert.That(Iterations.Keys, Is.EquivalentTo(Targets));

    [TestCaseSource(nameof(Targets))]
    public void Fixed_seed_pass_finds_nothing(string name)
    {
        var target = AllTargets.Get(name);
        var report = MutationDriver.Run(target, seed: 20261206, iterations: Iterations[name], hangLimit: TimeSpan.FromSeconds(30));
        TestContext.Out.WriteLine(report);
        Assert.That(report.Findings, Is.Empty, () => string.Join("\n\n", report.Findings.Select(f => f + "\n" + Convert.ToHexString(f.Input) + "\n" + f.Detail)));
        Assert.That(report.Executions, Is.EqualTo(Iterations[name]), "seeds included");
    }

    [Test]
    public void A_target_that_throws_an_undocumented_exception_is_a_finding()
    {
        var report = MutationDriver.Run(new Throwing(), seed: 1, iterations: 50);
        Assert.That(report.Findings, Has.Count.EqualTo(1));
        Assert.That(report.Findings[0].Kind, Is.EqualTo("exception"));
    }

    [Test]
    public void A_hang_is_a_finding_with_its_input()
    {
        var report = MutationDriver.Run(new Hanging(), seed: 1, iterations: 10, hangLimit: TimeSpan.FromMilliseconds(200));
        Assert.That(report.Findings.Single().Kind, Is.EqualTo("hang"));
        Assert.That(report.Findings.Single().Input, Does.Contain((byte)'!'));
    }

    [Test]
    public void An_allocation_over_budget_is_a_finding()
    {
        var report = MutationDriver.Run(new Allocating(), seed: 1, iterations: 5);
        Assert.That(report.Findings.Single().Detail, Does.Contain("allocated"));
    }

    private sealed class Throwing : FuzzTarget
    {
        public override string Name => "throwing";
        public override Type[] Allowed => [typeof(FormatException)];
        public override IReadOnlyList<byte[]> Seeds => [[1, 2, 3]];
        protected override string Execute(byte[] input) => input.Length > 3 ? throw new NullReferenceException() : throw new FormatException();
    }

    private sealed class Hanging : FuzzTarget
    {
        private static readonly ManualResetEventSlim Never = new(false);
        public override string Name => "hanging";
        public override Type[] Allowed => [];
        public override IReadOnlyList<byte[]> Seeds => [[(byte)'!']];
        protected override string Execute(byte[] input)
        {
            // Stands for an endless loop; the driver's thread is a background thread, so the run still ends.
            Never.Wait();
            return "";
        }
    }

    private sealed class Allocating : FuzzTarget
    {
        public override string Name => "allocating";
        public override Type[] Allowed => [];
        public override IReadOnlyList<byte[]> Seeds => [[0]];
        public override long AllocationBudget(int inputLength) => 1024 * 1024;
        protected override string Execute(byte[] input) => new byte[8 * 1024 * 1024].Length.ToString();
    }
}
