using System.Reactive.Linq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NUnit.Framework;
using RxHttp.Extensions.DependencyInjection;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.DependencyInjection;

/// <summary>Sessions registered in a real ServiceProvider: named, bound from configuration, validated, disposed with it.</summary>
public class AddRxHttpTests
{
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task A_named_session_is_shared_configured_and_closed_with_the_container()
    {
        var services = new ServiceCollection();
        services.AddRxHttp("local", o =>
        {
            o.BaseUrl = _server.BaseUrl;
            o.Timeout = TimeSpan.FromSeconds(30);
            o.Limit = 3;
            o.Headers["X-Api"] = "1";
        });
        ClientSession session;
        await using (var provider = services.BuildServiceProvider())
        {
            var factory = provider.GetRequiredService<IClientSessionFactory>();
            session = factory.GetSession("local");
            Assert.That(factory.GetSession("local"), Is.SameAs(session), "one session, one pool per name");
            Assert.That(session.Timeout.Total, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(session.Connector.Limit, Is.EqualTo(3));
            var echoed = await session.Get("echo").SelectMany(r => r.Text());
            Assert.That(echoed, Does.Contain("\"X-Api\":\"1\""));
            Assert.That(session.Closed, Is.False);
        }
        Assert.That(session.Closed, Is.True, "disposing the container closes the session");
    }

    [Test]
    public async Task A_session_a_consumer_disposed_is_replaced_not_handed_out_closed()
    {
        var services = new ServiceCollection();
        services.AddRxHttp("local", o => o.BaseUrl = _server.BaseUrl);
        ClientSession second;
        await using (var provider = services.BuildServiceProvider())
        {
            var factory = provider.GetRequiredService<IClientSessionFactory>();
            using (var first = factory.GetSession("local")) { } // as `using var client = factory.CreateClient()` is written

            second = factory.GetSession("local");
            Assert.That(second.Closed, Is.False);
            Assert.That(factory.GetSession("local"), Is.SameAs(second));
            using (var response = await second.Get("echo")) Assert.That(response.Status, Is.EqualTo(200));
        }
        Assert.That(second.Closed, Is.True, "the replacement closes with the container");
    }

    [Test]
    public void The_default_session_resolves_as_ClientSession()
    {
        var services = new ServiceCollection();
        services.AddRxHttp(o => o.BaseUrl = _server.BaseUrl);
        using var provider = services.BuildServiceProvider();
        var session = provider.GetRequiredService<ClientSession>();
        Assert.That(session.BaseUrl!.ToString(), Is.EqualTo(_server.BaseUrl));
        Assert.That(provider.GetRequiredService<IClientSessionFactory>().GetSession(""), Is.SameAs(session));
    }

    [Test]
    public void An_unknown_name_is_a_clear_error()
    {
        var services = new ServiceCollection();
        services.AddRxHttp("github", o => o.BaseUrl = "https://api.github.com/");
        using var provider = services.BuildServiceProvider();
        var e = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IClientSessionFactory>().GetSession("gitlab"));
        Assert.That(e!.Message, Does.Contain("'gitlab'").And.Contain("'github'"));
    }

    [TestCase("relative/", "absolute")]
    [TestCase("https://api.example.com/v1", "end with '/'")]
    public void A_bad_base_url_fails_when_registered(string url, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRxHttp("x", o => o.BaseUrl = url));
        Assert.That(e!.Message, Does.Contain(message).And.Contain("'x'"));
    }

    [Test]
    public void Negative_limits_and_zero_timeouts_fail_when_registered()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRxHttp("x", o => o.Limit = -1))!.Message, Does.Contain("Limit must not be negative"));
        Assert.That(Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRxHttp("x", o => o.Timeout = TimeSpan.Zero))!.Message, Does.Contain("Timeout must be positive"));
        Assert.That(Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRxHttp("x", o => o.KeepaliveTimeout = TimeSpan.FromSeconds(-1)))!.Message, Does.Contain("KeepaliveTimeout must not be negative"));
    }

    // Zero is the core's "keep no connection idle", which a service talking to a server that drops idle connections
    // early wants; DI refused it as not positive.
    [Test]
    public async Task A_zero_keepalive_keeps_no_connection_idle()
    {
        var services = new ServiceCollection();
        services.AddRxHttp("x", o => o.KeepaliveTimeout = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();
        var session = provider.GetRequiredService<IClientSessionFactory>().GetSession("x");
        Assert.That(session.Connector.Options.KeepaliveTimeout, Is.EqualTo(TimeSpan.Zero));
        await session.Get(_server.Url("/hello")).SelectMany(r => r.Read()).Timeout(TimeSpan.FromSeconds(20));
        await Wait.Until(() => session.Connector.CurrentState.Open == 0, what: "the released connection to close");
    }

    [Test]
    public void Settings_bind_from_configuration_and_bad_bound_values_fail_validation()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RxHttp:good:BaseUrl"] = _server.BaseUrl,
            ["RxHttp:good:Timeout"] = "00:00:07",
            ["RxHttp:good:LimitPerHost"] = "2",
            ["RxHttp:good:PooledConnectionLifetime"] = "00:02:00",
            ["RxHttp:good:ReadBufferSize"] = "4096",
            ["RxHttp:good:RequoteRedirectUrl"] = "false",
            ["RxHttp:good:SkipAutoHeaders:0"] = "User-Agent",
            ["RxHttp:bad:BaseUrl"] = "/relative/",
            ["RxHttp:bad:LimitPerHost"] = "-5",
            ["RxHttp:bad:ReadBufferSize"] = "0",
            ["RxHttp:bad:PooledConnectionLifetime"] = "-00:00:01",
        }).Build();
        var services = new ServiceCollection();
        services.AddRxHttp("good", _ => { }).Bind(config.GetSection("RxHttp:good"));
        services.AddRxHttp("bad", _ => { }).Bind(config.GetSection("RxHttp:bad"));
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IClientSessionFactory>();
        var good = factory.GetSession("good");
        Assert.That(good.Timeout.Total, Is.EqualTo(TimeSpan.FromSeconds(7)));
        Assert.That(good.Connector.LimitPerHost, Is.EqualTo(2));
        Assert.That(good.Connector.Options.PooledConnectionLifetime, Is.EqualTo(TimeSpan.FromMinutes(2)));
        Assert.That((good.SessionOptions.ReadBufferSize, good.SessionOptions.RequoteRedirectUrl, good.SessionOptions.SkipAutoHeaders),
            Is.EqualTo((4096, false, new[] { "User-Agent" })));
        var e = Assert.Throws<OptionsValidationException>(() => factory.GetSession("bad"));
        Assert.That(e!.Message, Does.Contain("BaseUrl '/relative/'").And.Contain("LimitPerHost must not be negative").And.Contain("ReadBufferSize")
            .And.Contain("PooledConnectionLifetime must be positive"));
    }

    [Test]
    public void Header_values_with_a_line_break_from_configuration_fail_validation_naming_the_session()
    {
        // A secret mounted from a file usually ends with a newline.
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RxHttp:api:Headers:X-Api-Key"] = "k3y\n",
            ["RxHttp:api:UserAgent"] = "app/1.0\r\n",
        }).Build();
        var services = new ServiceCollection();
        services.AddRxHttp("api", _ => { }).Bind(config.GetSection("RxHttp:api"));
        using var provider = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IClientSessionFactory>().GetSession("api"));
        Assert.That(e!.Message, Does.Contain("'api'").And.Contain("value of 'X-Api-Key' holds a CR, LF or NUL").And.Contain("UserAgent holds a CR, LF or NUL"));
        Assert.That(e.Message, Does.Not.Contain("k3y"), "the value itself may be a secret");
        var named = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRxHttp("x", o => o.Headers["Bad Name"] = "v"));
        Assert.That(named!.Message, Does.Contain("'x'").And.Contain("'Bad Name' is not a header name"));
    }

    [Test]
    public void A_configuration_change_gives_a_new_session_and_both_close_with_the_container()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["S:Timeout"] = "00:00:07" }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(config);
        services.AddRxHttp("s", _ => { }).Bind(config.GetSection("S"));
        var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IClientSessionFactory>();
        var first = factory.GetSession("s");
        config["S:Timeout"] = "00:00:09";
        config.Reload();
        var second = factory.GetSession("s");
        Assert.That(second, Is.Not.SameAs(first));
        Assert.That(second.Timeout.Total, Is.EqualTo(TimeSpan.FromSeconds(9)));
        Assert.That(first.Closed, Is.False, "requests running on the old session finish");
        provider.Dispose();
        Assert.That(first.Closed && second.Closed, Is.True);
    }

    [Test]
    public async Task A_session_being_made_when_the_configuration_changes_still_closes_with_the_container()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["S:Timeout"] = "00:00:07" }).Build();
        var services = new ServiceCollection();
        services.AddRxHttp("s", _ => { }).Bind(config.GetSection("S"));
        using var making = new Gate();
        services.Configure<RxHttpSessionOptions>("s", _ => making.HoldFirst());
        var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IClientSessionFactory>();
        var first = Task.Run(() => factory.GetSession("s"));
        making.WaitEntered();
        config["S:Timeout"] = "00:00:09";
        config.Reload(); // the change lands while the first session is being made
        making.Release();
        var session = await first.Within();
        Assert.That(factory.GetSession("s").Timeout.Total, Is.EqualTo(TimeSpan.FromSeconds(9)), "the change applies to the next session");
        provider.Dispose();
        Assert.That(session.Closed, Is.True, "the session handed out while the change landed closed with the container");
    }

    [Test]
    public async Task A_session_made_while_the_container_is_disposed_is_closed_not_handed_out()
    {
        var services = new ServiceCollection();
        services.AddRxHttp("s", _ => { });
        using var making = new Gate();
        services.Configure<RxHttpSessionOptions>("s", _ => making.HoldFirst());
        var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IClientSessionFactory>();
        var first = Task.Run(() => factory.GetSession("s"));
        making.WaitEntered();
        provider.Dispose();
        making.Release();
        Assert.That(async () => await first.Within(), Throws.InstanceOf<ObjectDisposedException>(),
            "a session made after the container closed its sessions would stay open for good");
    }

    /// <summary>Holds the first caller of <see cref="HoldFirst"/> until released, so a test can act while a session is being made.</summary>
    private sealed class Gate : IDisposable
    {
        private readonly ManualResetEventSlim _entered = new();
        private readonly ManualResetEventSlim _released = new();
        private int _calls;

        public void HoldFirst()
        {
            if (Interlocked.Increment(ref _calls) != 1) return;
            _entered.Set();
            _released.Wait(TimeSpan.FromSeconds(20));
        }

        public void WaitEntered() => Assert.That(_entered.Wait(TimeSpan.FromSeconds(20)), Is.True, "the session is being made");

        public void Release() => _released.Set();

        public void Dispose()
        {
            _released.Set();
            _entered.Dispose();
            _released.Dispose();
        }
    }
}
