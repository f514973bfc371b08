using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cli;

/// <summary>One CLI test server and one scratch directory per fixture.</summary>
public abstract class CliTestBase
{
    private protected KestrelServer Server { get; private set; } = null!;
    private protected CliRoutes Routes { get; } = new();
    protected string Dir { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        Server = await CliServer.StartAsync(Routes);
        Dir = Directory.CreateTempSubdirectory("rxhttp-cli-").FullName;
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await Server.DisposeAsync();
        Directory.Delete(Dir, true);
    }

    protected string U(string path) => Server.Url(path);
    protected string F(string name) => Path.Combine(Dir, name);

    /// <summary>The echo route's JSON view of the request, after checking the command succeeded.</summary>
    protected static System.Text.Json.JsonElement Echo(CliResult r)
    {
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        return System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement;
    }
}
