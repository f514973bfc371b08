using NUnit.Framework;
using RxHttp.Fuzz.Targets;

namespace RxHttp.Tests.Fuzz;

/// <summary>
/// Every input a fuzz run ever found a crash with, checked in under Fuzz/Regressions/&lt;target&gt;/, runs through its
/// target again: it must now end in a documented outcome. How each was fixed is in the test that replays it end to
/// end (DecodeErrorTests, UrlTests).
/// </summary>
[TestFixture]
public class FuzzRegressionTests
{
    private static string Root => Path.Combine(AppContext.BaseDirectory, "Fuzz", "Regressions");

    public static IEnumerable<TestCaseData> Inputs() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Order()
            .Select(f => new TestCaseData(Path.GetFileName(Path.GetDirectoryName(f)!), Path.GetFileName(f)).SetName($"{{m}}({Path.GetFileName(Path.GetDirectoryName(f))}/{Path.GetFileName(f)})"));

    [TestCaseSource(nameof(Inputs))]
    public void A_saved_crash_input_now_ends_in_a_documented_outcome(string target, string file)
    {
        var input = File.ReadAllBytes(Path.Combine(Root, target, file));
        Assert.DoesNotThrow(() => TestContext.Out.WriteLine(AllTargets.Get(target).Run(input)));
    }

    [Test]
    public void There_are_saved_inputs() => Assert.That(Inputs().Count(), Is.GreaterThanOrEqualTo(4));
}
