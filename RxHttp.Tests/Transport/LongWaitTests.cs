using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Transport;

/// <summary>
/// Waits longer than the ~49.7 days a <see cref="System.Threading.Timer"/> accepts, on <see cref="DefaultScheduler"/>
/// (which throws for them): a server's Retry-After under a lifted MaxDelay, and "never" (TimeSpan.MaxValue) as the
/// Expect100Timeout or WsClose. Each must wait, as the ClientTimeout deadlines already do, not fail with an untyped
/// ArgumentOutOfRangeException.
/// </summary>
public class LongWaitTests
{
    private const string Api = "https://api.example.test";

    [Test]
    public void A_retry_after_of_years_under_an_unbounded_max_delay_waits_rather_than_failing_the_request()
    {
        using var http = new FakeHttp();
        http.When("GET", Api + "/busy").Respond(FakeResponse.Status(503).Header("Retry-After", "9999999999"));
        using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = http.Connector,
            ConnectorOwner = false,
            Scheduler = DefaultScheduler.Instance,
            Middlewares = [RetryOperator.Middleware(new RetryOptions { MaxDelay = TimeSpan.MaxValue })],
        });
        var seen = new List<string>();

        // The scripted 503 comes inside Subscribe, and the retry's wait is armed there too.
        var call = session.Get(Api + "/busy").Subscribe(r => seen.Add(r.Status.ToString()), e => seen.Add("error " + e.GetType().Name));

        Assert.That(seen, Is.Empty, "waiting for the Retry-After, not failed while arming it");
        Assert.That(http.Calls, Has.Count.EqualTo(1));
        call.Dispose();
    }

    [Test]
    public async Task An_expect_100_timeout_of_TimeSpan_MaxValue_waits_for_the_100_rather_than_failing_the_request()
    {
        using var http = new FakeHttp();
        http.When("POST", Api + "/upload").Respond(200, "stored");
        using var session = http.CreateSession(DefaultScheduler.Instance);

        var text = await session.Post(Api + "/upload", new RequestOptions { Data = "payload", Expect100 = true, Expect100Timeout = TimeSpan.MaxValue })
            .SelectMany(r => r.Text()).ToTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(text, Is.EqualTo("stored"));
        Assert.That(http.Calls.Single().Header("Expect"), Is.EqualTo("100-continue"));
        Assert.That(System.Text.Encoding.UTF8.GetString(http.Calls.Single().Body), Is.EqualTo("payload"));
    }

    [Test]
    public async Task A_ws_close_timeout_of_TimeSpan_MaxValue_closes_cleanly_rather_than_throwing()
    {
        using var http = new FakeHttp();
        http.WhenWebSocket("wss://ws.example.test/feed");
        using var session = http.CreateSession(DefaultScheduler.Instance);
        var socket = await session.WsConnectAsync("wss://ws.example.test/feed",
            new WsConnectOptions { Timeout = WsTimeout.Default with { WsClose = TimeSpan.MaxValue } }).WaitAsync(TimeSpan.FromSeconds(30));

        await socket.Close().ToTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(socket.Closed, Is.True);
        Assert.That(socket.CloseCode, Is.EqualTo((int)WsCloseCode.Ok), "the server's answer to our CLOSE");
    }
}
