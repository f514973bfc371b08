using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>
/// The library's folders are layers, and a lower one never names a type whose home is a higher one. The library's
/// own sources are compiled with Roslyn and every type reference is checked against the table below. What still
/// crosses upwards is listed in <see cref="KnownDebt"/> with its reason; an entry that no longer occurs fails too,
/// so the list only shrinks.
/// </summary>
[TestFixture]
public class ArchitectureTests
{
    // Lowest first. Folders on one rank may use each other.
    private static readonly Dictionary<string, int> Rank = new()
    {
        ["Core"] = 0, ["Urls"] = 0,
        ["Http1"] = 1,
        ["Diagnostics"] = 1, // the ActivitySource, Meter and semantic-convention values every layer reports to
        ["Transport"] = 2,
        ["Connectors"] = 3,
        ["Content"] = 4, ["Cookies"] = 4, ["Json"] = 4,
        [""] = 5,           // the request (and its plan) and response types, the exchange that joins them, the request's tracer
        ["Pipeline"] = 6,
        ["WebSockets"] = 7,
        ["Session"] = 8,
    };

    // "folder/File.cs -> Type": an upward reference that is known, with what would remove it (#19).
    private static readonly Dictionary<string, string> KnownDebt = new()
    {
    };

    private static string Root()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RxHttp.sln"))) dir = dir.Parent;
        Assert.That(dir, Is.Not.Null, "repository root not found");
        return Path.Combine(dir!.FullName, "RxHttp");
    }

    private static string Folder(string root, string file)
    {
        var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
        var slash = relative.IndexOf('/');
        return slash < 0 ? "" : relative[..slash];
    }

    /// <summary>The upward references the library's sources make, as "folder/File.cs -> Type".</summary>
    private static SortedSet<string> UpwardReferences(out List<string> unranked)
    {
        var root = Root();
        var files = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToList();
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, f)).ToList();
        // The SDK's implicit usings, which the project enables.
        trees.Add(CSharpSyntaxTree.ParseText(
            "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
            "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;", parse));
        var references = ReadmeCompilation.References.Where(r => !(Path.GetFileName(r.Display ?? "").StartsWith("RxHttp", StringComparison.Ordinal)));
        CSharpCompilation compilation = CSharpCompilation.Create("RxHttpLayers", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        // The JSON and regex source generators write members the sources call (CookieFileJsonContext.Default …).
        CSharpGeneratorDriver.Create(Generators().ToArray(), parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
        compilation = (CSharpCompilation)generated;
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Take(5).ToList();
        Assert.That(errors, Is.Empty, "the library's sources must compile here for the check to mean anything");

        unranked = files.Select(f => Folder(root, f)).Distinct().Where(f => !Rank.ContainsKey(f)).ToList();
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tree in trees.Where(t => t.FilePath.Length > 0))
        {
            var from = Folder(root, tree.FilePath);
            if (!Rank.TryGetValue(from, out var fromRank)) continue;
            var model = compilation.GetSemanticModel(tree);
            // A file that holds part of a partial type may name that type: it is that type.
            var parts = tree.GetRoot().DescendantNodes().OfType<TypeDeclarationSyntax>()
                .Select(d => model.GetDeclaredSymbol(d)).OfType<INamedTypeSymbol>().ToHashSet(SymbolEqualityComparer.Default);
            foreach (var name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                var symbol = model.GetSymbolInfo(name).Symbol;
                var type = symbol as INamedTypeSymbol ?? symbol?.ContainingType;
                while (type?.ContainingType is { } outer) type = outer;
                if (type is null || !type.Locations.Any(l => l.IsInSource) || parts.Contains(type)) continue;
                var home = Home(root, type);
                if (Rank.TryGetValue(home, out var toRank) && toRank > fromRank)
                    found.Add($"{(from.Length == 0 ? "" : from + "/")}{Path.GetFileName(tree.FilePath)} -> {type.Name}");
            }
        }
        return found;
    }

    private static IEnumerable<ISourceGenerator> Generators()
    {
        var shared = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();
        var version = new DirectoryInfo(shared).Name;
        var pack = Path.GetFullPath(Path.Combine(shared, "..", "..", "..", "packs", "Microsoft.NETCore.App.Ref"));
        var dir = Directory.Exists(Path.Combine(pack, version)) ? Path.Combine(pack, version)
            : Directory.GetDirectories(pack).Where(d => Path.GetFileName(d).StartsWith(version.Split('.')[0] + ".", StringComparison.Ordinal)).Max()!;
        var analyzers = Path.Combine(dir, "analyzers", "dotnet", "cs");
        foreach (var name in new[] { "System.Text.Json.SourceGeneration.dll", "System.Text.RegularExpressions.Generator.dll" })
        {
            var reference = new Microsoft.CodeAnalysis.Diagnostics.AnalyzerFileReference(Path.Combine(analyzers, name), GeneratorLoader.Instance);
            foreach (var g in reference.GetGenerators(LanguageNames.CSharp)) yield return g;
        }
    }

    private sealed class GeneratorLoader : Microsoft.CodeAnalysis.IAnalyzerAssemblyLoader
    {
        public static readonly GeneratorLoader Instance = new();
        public void AddDependencyLocation(string fullPath) { }
        public System.Reflection.Assembly LoadFromPath(string fullPath) => System.Reflection.Assembly.LoadFrom(fullPath);
    }

    // A partial type's home is the file named after it (ClientSession.cs), else its first declaration.
    private static string Home(string root, INamedTypeSymbol type)
    {
        var paths = type.Locations.Where(l => l.IsInSource).Select(l => l.SourceTree!.FilePath).ToList();
        var named = paths.FirstOrDefault(p => Path.GetFileNameWithoutExtension(p) == type.Name);
        return Folder(root, named ?? paths.Order(StringComparer.Ordinal).First());
    }

    [Test]
    public void No_folder_uses_a_type_from_a_higher_layer_beyond_the_known_debt()
    {
        var found = UpwardReferences(out var unranked);
        Assert.That(unranked, Is.Empty, "every library folder needs a rank in this test");
        var unexpected = found.Where(f => !KnownDebt.ContainsKey(f)).ToList();
        var settled = KnownDebt.Keys.Where(k => !found.Contains(k)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(unexpected, Is.Empty, "new upward references:\n" + string.Join("\n", unexpected));
            Assert.That(settled, Is.Empty, "known debt that is paid: remove it from KnownDebt\n" + string.Join("\n", settled));
        });
    }

    [Test]
    public void Every_part_of_ClientSession_lives_in_Session()
    {
        var root = Root();
        var outside = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Where(f => File.ReadAllText(f).Contains("partial class ClientSession", StringComparison.Ordinal) && Folder(root, f) != "Session")
            .Select(f => Path.GetRelativePath(root, f))
            .ToList();
        Assert.That(outside, Is.EquivalentTo(new[] { Path.Combine("WebSockets", "ReconnectingWebSocket.cs") }),
            "ReconnectingWebSocket's WsReconnecting entry is the one part still beside its type");
    }
}
