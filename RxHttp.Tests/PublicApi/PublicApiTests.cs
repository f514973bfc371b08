using System.Reflection;
using NUnit.Framework;
using PublicApiGenerator;

namespace RxHttp.Tests.PublicApi;

/// <summary>
/// The public API of each package, checked against an approved text file in this folder, so every API change is a
/// deliberate diff in review. After an intended change, regenerate every approved file with one command:
/// <c>RXHTTP_APPROVE_API=1 dotnet test RxHttp.Tests/RxHttp.Tests.csproj -c Release --filter "FullyQualifiedName~PublicApi"</c>
/// and commit the diff.
/// </summary>
public class PublicApiTests
{
    [Test]
    public void RxHttp_public_api_matches_the_approved_file() => Verify(typeof(ClientSession).Assembly);

    [Test]
    public void DependencyInjection_public_api_matches_the_approved_file() =>
        Verify(typeof(RxHttp.Extensions.DependencyInjection.IClientSessionFactory).Assembly);

    [Test]
    public void Polly_public_api_matches_the_approved_file() =>
        Verify(typeof(RxHttp.Extensions.Polly.ResilienceExtensions).Assembly);

    [Test]
    public void Testing_public_api_matches_the_approved_file() => Verify(typeof(RxHttp.Testing.FakeHttp).Assembly);

    internal static void Verify(Assembly assembly)
    {
        var actual = Normalise(assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            // Compiler-generated state machine names and test-only friend assemblies are noise in a review.
            ExcludeAttributes = new[]
            {
                "System.Runtime.Versioning.TargetFrameworkAttribute",
                "System.Reflection.AssemblyMetadataAttribute",
                "System.Runtime.CompilerServices.InternalsVisibleToAttribute",
                "System.Runtime.CompilerServices.AsyncStateMachineAttribute",
                "System.Runtime.CompilerServices.AsyncIteratorStateMachineAttribute",
                "System.Runtime.CompilerServices.IteratorStateMachineAttribute",
            },
        }));
        var approvedPath = Path.Combine(ApprovedFolder(), assembly.GetName().Name + ".approved.txt");
        if (Environment.GetEnvironmentVariable("RXHTTP_APPROVE_API") == "1")
        {
            File.WriteAllText(approvedPath, actual);
            Assert.Pass($"Rewrote {approvedPath}");
        }
        Assert.That(File.Exists(approvedPath), Is.True, $"No approved API file at {approvedPath}: run with RXHTTP_APPROVE_API=1 once.");
        var approved = Normalise(File.ReadAllText(approvedPath));
        if (approved == actual) return;
        var diff = FirstDifference(approved, actual);
        Assert.Fail($"The public API of {assembly.GetName().Name} changed ({diff}). If that is intended, run\n" +
                    "  RXHTTP_APPROVE_API=1 dotnet test RxHttp.Tests/RxHttp.Tests.csproj -c Release --filter \"FullyQualifiedName~PublicApi\"\n" +
                    "and commit the new approved file.");
    }

    // The approved files sit beside this source file, found from the test binary's folder rather than from
    // [CallerFilePath]: CI builds (ContinuousIntegrationBuild) map source paths to /_/, which exists nowhere on disk.
    private static string ApprovedFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "RxHttp.Tests", "PublicApi");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("No RxHttp.Tests/PublicApi folder above " + AppContext.BaseDirectory);
    }

    private static string Normalise(string text) => text.Replace("\r\n", "\n").TrimEnd() + "\n";

    private static string FirstDifference(string approved, string actual)
    {
        var a = approved.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "<end>";
            var y = i < b.Length ? b[i] : "<end>";
            if (x != y) return $"line {i + 1}: approved '{x.Trim()}', now '{y.Trim()}'";
        }
        return "whitespace";
    }
}
