using System.Text.RegularExpressions;
using NUnit.Framework;

namespace RxHttp.Tests;

/// <summary>
/// The README's C# blocks are compiled as RxHttp.Samples/ReadmeSnippets.cs; this keeps the two in step, so the
/// documented API cannot drift from the real one without a red build.
/// </summary>
public class ReadmeTests
{
    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RxHttp.sln"))) dir = dir.Parent;
        Assert.That(dir, Is.Not.Null, "repository root not found");
        return File.ReadAllText(Path.Combine(dir!.FullName, relative));
    }

    [Test]
    public void Every_line_of_the_readme_csharp_blocks_is_compiled_in_the_snippets_file()
    {
        var readme = RepoFile("README.md");
        var snippets = RepoFile("RxHttp.Samples/ReadmeSnippets.cs");
        var blocks = Regex.Matches(readme, "```csharp\\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.That(blocks, Has.Count.GreaterThan(5));
        var compiled = new HashSet<string>(snippets.Split('\n').Select(l => l.Trim()));
        var missing = blocks
            .Where(b => !b.Contains("new TestScheduler()")) // the virtual-time example needs the test project's scheduler
            .SelectMany(b => b.Split('\n'))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !Regex.IsMatch(l, @"^using [A-Za-z.]+;$"))
            .Where(l => !compiled.Contains(l))
            .ToList();
        Assert.That(missing, Is.Empty, "README lines not in RxHttp.Samples/ReadmeSnippets.cs (update it so they compile)");
    }
}
