using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RxHttp.Tests.Support;

/// <summary>
/// Compiles README's C# blocks in one Roslyn compilation, as a user's project would see them: the SDK's reference
/// assemblies (Microsoft.NETCore.App and Microsoft.AspNetCore.App) and the RxHttp assemblies with their own
/// dependencies. Each block becomes the body of its own <c>Run()</c> method (its type declarations sit beside
/// it), under the prelude block's usings, with the prelude's declarations as static fields every block sees.
/// <c>#line</c> directives map every diagnostic back to README's line.
/// </summary>
public sealed class ReadmeCompilation
{
    private static readonly CSharpParseOptions Parse = new(LanguageVersion.Latest);
    private static readonly Lazy<IReadOnlyList<MetadataReference>> DefaultReferences = new(FindReferences);

    /// <summary>The framework and package assemblies a consumer of RxHttp compiles against, RxHttp*.dll included.</summary>
    internal static IReadOnlyList<MetadataReference> References => DefaultReferences.Value;

    private readonly Dictionary<ReadmeBlock, string> _typeNames = new();
    private Assembly? _assembly;

    private ReadmeCompilation() { }

    /// <summary>Every error, as "README.md line N (block at line M): CSxxxx: message".</summary>
    public IReadOnlyList<string> Errors { get; private set; } = [];

    /// <summary>The compiled assembly's image, when there was no error.</summary>
    public byte[]? Image { get; private set; }

    /// <summary>Compiles the blocks; <paramref name="rewrite"/> may edit the prelude's and runnable blocks' code first.</summary>
    public static ReadmeCompilation Compile(IReadOnlyList<ReadmeBlock> blocks, Func<string, string>? rewrite = null)
    {
        var result = new ReadmeCompilation();
        rewrite ??= s => s;
        var errors = new List<string>();
        var preludes = blocks.Where(b => b.Prelude).ToList();
        if (preludes.Count != 1) errors.Add($"README must have exactly one ```csharp prelude block; found {preludes.Count}");
        var prelude = preludes.FirstOrDefault();
        var preludeCode = prelude is null ? "" : rewrite(prelude.Code);
        var preludeTree = CSharpSyntaxTree.ParseText(preludeCode, Parse);
        var usings = string.Concat(((CompilationUnitSyntax)preludeTree.GetRoot()).Usings.Select(u => u.ToString() + "\n"));

        var trees = new List<SyntaxTree>();
        if (prelude is not null) trees.Add(Tree(PreludeSource(prelude, preludeTree, errors), "prelude"));
        foreach (var block in blocks.Where(b => !b.Prelude))
        {
            var name = $"L{block.Line}";
            result._typeNames[block] = $"ReadmeBlocks.{name}.Block";
            trees.Add(Tree(BlockSource(block, block.Runnable ? rewrite(block.Code) : block.Code, usings, name), name));
        }

        var compilation = CSharpCompilation.Create("ReadmeBlocks", trees, DefaultReferences.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var byLine = blocks.Select(b => b.Line).Order().ToArray();
        errors.AddRange(emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => Describe(d, byLine)).Distinct());
        result.Errors = errors;
        if (emitted.Success && errors.Count == 0) result.Image = image.ToArray();
        return result;
    }

    /// <summary>Runs a runnable block's code (the compiled assembly is loaded on first use).</summary>
    public Task Run(ReadmeBlock block)
    {
        _assembly ??= Assembly.Load(Image ?? throw new InvalidOperationException("the README did not compile"));
        var method = _assembly.GetType(_typeNames[block])!.GetMethod("Run")!;
        return (Task)method.Invoke(null, null)!;
    }

    /// <summary>The prelude's placeholders that need disposing (sessions) after the blocks ran.</summary>
    public IEnumerable<object> PlaceholderValues() =>
        _assembly?.GetType("ReadmeBlocks.Placeholders")?.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetValue(null)).OfType<object>() ?? [];

    private static SyntaxTree Tree(string source, string name) => CSharpSyntaxTree.ParseText(source, Parse, path: name + ".g.cs", encoding: Encoding.UTF8);

    // The prelude's local declarations become static fields (blocks that declare their own `session` shadow them);
    // its type declarations stay at the top level.
    private static string PreludeSource(ReadmeBlock prelude, SyntaxTree tree, List<string> errors)
    {
        var root = (CompilationUnitSyntax)tree.GetRoot();
        var fields = new StringBuilder();
        var types = new StringBuilder();
        foreach (var member in root.Members)
        {
            if (member is GlobalStatementSyntax { Statement: LocalDeclarationStatementSyntax local } && local.UsingKeyword == default
                && !local.Declaration.Type.IsVar)
                Emit(fields, "public static " + local.Declaration + ";", member, prelude.Line);
            else if (member is GlobalStatementSyntax)
                errors.Add($"README.md line {prelude.Line + Line(member)}: the prelude may only declare placeholders with explicit types and types");
            else Emit(types, member.ToString(), member, prelude.Line);
        }
        return string.Concat(root.Usings.Select(u => u.ToString() + "\n"))
            + "namespace ReadmeBlocks\n{\npublic static partial class Placeholders\n{\n" + fields + "#line default\n}\n}\n" + types;
    }

    private static string BlockSource(ReadmeBlock block, string code, string usings, string name)
    {
        var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(code, Parse).GetRoot();
        var source = new StringBuilder(usings).Append("using static ReadmeBlocks.Placeholders;\n");
        foreach (var u in root.Usings) Emit(source, u.ToString(), u, block.Line);
        source.Append($"namespace ReadmeBlocks.{name}\n{{\npublic static class Block\n{{\npublic static async global::System.Threading.Tasks.Task Run()\n{{\n");
        foreach (var statement in root.Members.OfType<GlobalStatementSyntax>()) Emit(source, statement.ToString(), statement, block.Line);
        source.Append("await global::System.Threading.Tasks.Task.CompletedTask;\n}\n}\n");
        foreach (var member in root.Members.Where(m => m is not GlobalStatementSyntax)) Emit(source, member.ToString(), member, block.Line);
        return source.Append("}\n").ToString();
    }

    // Writes a node at its README line and column, then hides the generated lines that follow.
    private static void Emit(StringBuilder to, string text, SyntaxNode node, int firstLine)
    {
        var start = node.GetLocation().GetLineSpan().StartLinePosition;
        to.Append($"#line {firstLine + start.Line} \"README.md\"\n").Append(' ', start.Character).Append(text).Append("\n#line hidden\n");
    }

    private static int Line(SyntaxNode node) => node.GetLocation().GetLineSpan().StartLinePosition.Line;

    private static string Describe(Diagnostic d, int[] blockLines)
    {
        var mapped = d.Location.GetMappedLineSpan();
        if (!mapped.HasMappedPath) return $"{d.Location.SourceTree?.FilePath}: {d.Id}: {d.GetMessage()}";
        var line = mapped.StartLinePosition.Line + 1;
        var block = blockLines.LastOrDefault(l => l <= line);
        return $"README.md line {line} (block at line {block}): {d.Id}: {d.GetMessage()}";
    }

    // What a project referencing RxHttp compiles against: the SDK's reference packs for the running framework,
    // and RxHttp*.dll beside the tests with the non-framework assemblies they reference (System.Linq.Async is left
    // out as RxHttp.csproj leaves out its compile assets: it clashes with the framework's System.Linq.AsyncEnumerable).
    private static IReadOnlyList<MetadataReference> FindReferences()
    {
        var shared = RuntimeEnvironment.GetRuntimeDirectory();                      // …/shared/Microsoft.NETCore.App/10.0.x/
        var version = new DirectoryInfo(shared).Name;
        var dotnetRoot = Path.GetFullPath(Path.Combine(shared, "..", "..", ".."));
        var paths = new List<string>();
        foreach (var pack in new[] { "Microsoft.NETCore.App.Ref", "Microsoft.AspNetCore.App.Ref" })
        {
            var versions = Path.Combine(dotnetRoot, "packs", pack);
            var dir = Directory.Exists(Path.Combine(versions, version)) ? Path.Combine(versions, version)
                : Directory.Exists(versions) ? Directory.GetDirectories(versions).Where(d => Path.GetFileName(d).StartsWith(version.Split('.')[0] + ".")).Max() : null;
            var refDir = dir is null ? null : Directory.GetDirectories(Path.Combine(dir, "ref")).Max();
            if (refDir is null) throw new InvalidOperationException($"reference pack {pack} not found under {versions}");
            paths.AddRange(Directory.GetFiles(refDir, "*.dll"));
        }

        var here = AppContext.BaseDirectory;
        var pending = new Queue<string>(Directory.GetFiles(here, "RxHttp*.dll")
            .Where(f => Path.GetFileName(f) is var n && !n.StartsWith("RxHttp.Tests") && !n.StartsWith("RxHttp.Samples") && !n.StartsWith("RxHttp.Soak"))
            // RxHttp.Testing's package brings the real TestScheduler, though RxHttp.Testing.dll itself does not reference it.
            .Append(Path.Combine(here, "Microsoft.Reactive.Testing.dll"))
            // The Observability section shows OpenTelemetry's registration (the SDK the diagnostics tests use).
            .Concat(Directory.GetFiles(here, "OpenTelemetry*.dll")));
        var framework = paths.Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (pending.TryDequeue(out var file))
        {
            if (!seen.Add(file)) continue;
            paths.Add(file);
            foreach (var dependency in ReferencedNames(file))
            {
                if (framework.Contains(dependency) || dependency == "System.Linq.Async") continue;
                var candidate = Path.Combine(here, dependency + ".dll");
                if (File.Exists(candidate)) pending.Enqueue(candidate);
            }
        }
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    private static IEnumerable<string> ReferencedNames(string file)
    {
        using var stream = File.OpenRead(file);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        return metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)).ToList();
    }
}
