using NUnit.Framework;

namespace RxHttp.Tests.Support;

/// <summary>
/// The shared set-up of wire-test fixtures: one in-process Kestrel server with the default routes
/// (<see cref="KestrelServer"/>), started once for the fixture and stopped after its last test.
/// </summary>
public abstract class KestrelFixture
{
    /// <summary>The fixture's server.</summary>
    protected KestrelServer Server { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartKestrel() => Server = await KestrelServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopKestrel() => await Server.DisposeAsync();
}
