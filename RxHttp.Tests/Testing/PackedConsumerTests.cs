using System.Diagnostics;
using NUnit.Framework;

namespace RxHttp.Tests.Testing;

/// <summary>
/// A user's project that references only the packed RxHttp.Testing (and through it RxHttp) from a local feed: its LINQ
/// over RxHttp's async sequences must compile (no CS0121 with the BCL's System.Linq.AsyncEnumerable) and a
/// TestScheduler test must run (the Rx 3 facades Microsoft.Reactive.Testing needs come with the package); the packed
/// Polly adapter restores with its Polly.Core dependency and runs a pipeline on the TestScheduler's clock.
/// </summary>
[NonParallelizable]
public class PackedConsumerTests
{
    // The configuration this test run was built in, whose builds are packed (./test.sh -c Debug builds Debug only).
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private const string Program = """
        using System.Reactive.Linq;
        using Microsoft.Reactive.Testing;
        using RxHttp;
        using RxHttp.Testing;
        using Polly;
        using RxHttp.Extensions.Polly;

        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", "https://api.test/*").Respond(FakeResponse.Status(200).Text("abcdef"));
        using var session = http.CreateSession(scheduler);
        using var response = await session.Get("https://api.test/x");
        var lengths = await response.IterChunked().Select(c => c.Length).ToListAsync();
        var timer = scheduler.Start(() => Observable.Timer(TimeSpan.FromTicks(50), scheduler).Select(_ => 1));
        ReactiveAssert.AreElementsEqual(new[] { ReactiveTest.OnNext(250, 1), ReactiveTest.OnCompleted<int>(250) }, timer.Messages);
        var pipeline = new ResiliencePipelineBuilder<ClientResponse> { TimeProvider = scheduler.AsTimeProvider() }.AddTimeout(TimeSpan.FromSeconds(5)).Build();
        using var resilient = await session.Get("https://api.test/x").WithResilience(pipeline);
        http.ShouldHaveCalled("https://api.test/x").WithVerb("GET").Times(2);
        Console.WriteLine("consumer ok " + lengths.Sum());
        """;

    [Test]
    public async Task A_project_that_references_only_the_packed_package_builds_and_runs_its_test()
    {
        var repo = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "../../../.."));
        var dir = Directory.CreateTempSubdirectory("rxhttp-consumer-");
        try
        {
            var feed = Directory.CreateDirectory(Path.Combine(dir.FullName, "feed")).FullName;
            // A version of its own, so no package of an earlier run in the NuGet cache stands in for this one.
            var version = "0.0.0-consumer" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
            // The test run built both projects: pack those builds (no rebuild), RxHttp.Testing depending on this RxHttp.
            foreach (var project in new[] { "RxHttp/RxHttp.csproj", "RxHttp.Testing/RxHttp.Testing.csproj", "RxHttp.Extensions.Polly/RxHttp.Extensions.Polly.csproj" })
                await Run(repo, "dotnet", $"pack {project} -c {Configuration} --no-build -o \"{feed}\" -p:PackageVersion={version}");
            var app = Directory.CreateDirectory(Path.Combine(dir.FullName, "app")).FullName;
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings><TreatWarningsAsErrors>true</TreatWarningsAsErrors><NoWarn>NU1603</NoWarn></PropertyGroup>
                  <ItemGroup><PackageReference Include="RxHttp.Testing" Version="{version}" /><PackageReference Include="RxHttp.Extensions.Polly" Version="{version}" /></ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration><packageSources><clear />
                  <add key="local" value="{feed}" />
                  <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
                </packageSources></configuration>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), Program);
            await Run(app, "dotnet", "build -c Release");
            var output = await Run(app, "dotnet", "bin/Release/net10.0/app.dll");
            Assert.That(output, Does.Contain("consumer ok 6"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<string> Run(string cwd, string file, string args)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment.Remove("MSBuildExtensionsPath");
        psi.Environment.Remove("MSBUILD_EXE_PATH");
        psi.Environment.Remove("MSBuildSDKsPath");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        var text = await stdout + await stderr;
        Assert.That(p.ExitCode, Is.Zero, $"{file} {args} failed:\n{text}");
        return text;
    }
}
