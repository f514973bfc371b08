using NUnit.Framework;
using RxHttp.Samples;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>
/// README's C# is compiled as written (every ```csharp block and every RxHttp cell of its comparison tables, under
/// the one prelude README states), and its runnable blocks are run against the demo server, so what a user copies
/// compiles and does what README says it prints.
/// </summary>
[NonParallelizable]
public class ReadmeTests
{
    // The address README's prelude and runnable blocks use: `dotnet run --project RxHttp.Samples -- --serve`.
    private const string DemoAddress = "http://127.0.0.1:8080/";

    private DemoServer _server = null!;
    private IReadOnlyList<ReadmeBlock> _blocks = null!;
    private ReadmeCompilation _compiled = null!;

    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RxHttp.sln"))) dir = dir.Parent;
        Assert.That(dir, Is.Not.Null, "repository root not found");
        return File.ReadAllText(Path.Combine(dir!.FullName, relative));
    }

    [OneTimeSetUp]
    public async Task CompileOnce()
    {
        _server = await DemoServer.StartAsync();
        _blocks = ReadmeBlocks.Extract(RepoFile("README.md"));
        _compiled = ReadmeCompilation.Compile(_blocks, code => code.Replace(DemoAddress, _server.BaseUrl));
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        foreach (var value in _compiled?.PlaceholderValues() ?? [])
            if (value is IAsyncDisposable d) await d.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
    }

    [Test]
    public void Every_csharp_block_and_table_row_of_the_readme_compiles_under_its_prelude()
    {
        Assert.That(_compiled.Errors, Is.Empty, "README's C# does not compile:\n" + string.Join("\n", _compiled.Errors));
        Assert.That(_blocks.Count(b => !b.FromTable), Is.GreaterThan(10), "README's ```csharp blocks were not found");
        Assert.That(_blocks.Count(b => b.FromTable), Is.GreaterThanOrEqualTo(16), "the aiohttp → RxHttp and HttpClient → RxHttp tables' rows");
    }

    [Test]
    public async Task Runnable_blocks_run_against_the_demo_server_and_print_what_readme_shows()
    {
        Assert.That(_compiled.Errors, Is.Empty, "README does not compile (see the test above)");
        var runnable = _blocks.Where(b => b.Runnable).ToList();
        Assert.That(runnable, Has.Count.GreaterThanOrEqualTo(3));
        foreach (var block in runnable)
        {
            var output = new StringWriter();
            var console = Console.Out;
            Console.SetOut(TextWriter.Synchronized(output));
            try
            {
                await _compiled.Run(block).WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception e)
            {
                Assert.Fail($"{block} failed: {e}");
            }
            finally
            {
                Console.SetOut(console);
            }
            if (block.ExpectedOutput is { } expected)
                Assert.That(Normalise(output.ToString()), Is.EqualTo(Normalise(expected)), $"{block} printed something else than the ```text output block after it");
        }
    }

    [Test]
    public void A_block_that_does_not_compile_is_reported_with_its_readme_line_and_the_compiler_error()
    {
        var markdown = "# t\n\n```csharp prelude\nusing RxHttp;\nClientSession session = new(\"http://x/\");\n```\n\ntext\n```csharp\nvar a = 1;\nvar b = sesion.Get(\"x\");\n```\n";
        var compiled = ReadmeCompilation.Compile(ReadmeBlocks.Extract(markdown));
        Assert.That(compiled.Errors, Has.Count.EqualTo(1));
        Assert.That(compiled.Errors[0], Does.StartWith("README.md line 11 (block at line 10): CS0103: The name 'sesion' does not exist"));
    }

    [Test]
    public void A_table_row_is_compiled_on_its_own_and_reported_with_its_line()
    {
        var markdown = "```csharp prelude\nusing RxHttp;\nClientSession session = new(\"http://x/\");\n```\n\n| aiohttp | RxHttp |\n| --- | --- |\n" +
                       "| `a` | `var ok = session.Get(\"a\");` |\n| `b` | `var n = 1 \\| 2; session.Gett(\"b\");` |\n\nafter\n";
        var blocks = ReadmeBlocks.Extract(markdown);
        Assert.That(blocks.Where(b => b.FromTable).Select(b => b.Code), Is.EqualTo(new[] { "var ok = session.Get(\"a\");", "var n = 1 | 2; session.Gett(\"b\");" }));
        var compiled = ReadmeCompilation.Compile(blocks);
        Assert.That(compiled.Errors, Has.Count.EqualTo(1));
        Assert.That(compiled.Errors[0], Does.StartWith("README.md line 9 (block at line 9): CS1061"));
    }

    [Test]
    public void A_runnable_block_takes_the_text_output_block_after_it_as_what_it_prints()
    {
        var blocks = ReadmeBlocks.Extract("```csharp runnable\nConsole.WriteLine(1);\n```\n\n```text output\n1\n```\n```csharp\nvar x = 1;\n```\n\n```text\nnot output\n```\n");
        Assert.That(blocks.Select(b => (b.Line, b.Runnable, b.ExpectedOutput)), Is.EqualTo(new[] { (2, true, (string?)"1"), (9, false, null) }));
    }

    [Test]
    public void A_line_that_starts_with_inline_code_holding_backticks_is_not_a_fence()
    {
        var blocks = ReadmeBlocks.Extract("```` ```csharp runnable ```` marks a block\n\n```csharp\nvar x = 1;\n```\n");
        Assert.That(blocks.Select(b => (b.Line, b.Code, b.Runnable)), Is.EqualTo(new[] { (4, "var x = 1;", false) }));
    }

    private static string Normalise(string text) =>
        string.Join("\n", text.Replace("\r\n", "\n").Split('\n').Select(l => l.TrimEnd())).Trim('\n');
}
