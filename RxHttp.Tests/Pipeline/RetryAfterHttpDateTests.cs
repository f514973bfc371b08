using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// Retry-After as an HTTP-date in the variants servers send (RFC 9110 §5.6.7: recipients SHOULD be lenient): each
/// must replace the backoff to the virtual tick, and what is no date at all must fall back to it without an error.
/// </summary>
public class RetryAfterHttpDateTests : ReactiveTest
{
    private const string Url = "https://api.example.test/items";
    // A Sunday, so "Mon, 01 Mar 2026" is a wrong weekday.
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static IReadOnlyList<TimeSpan> CallOffsets(string retryAfter)
    {
        var scheduler = new TestScheduler();
        scheduler.AdvanceTo(Start.UtcTicks);
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(FakeResponse.Status(503).Header("Retry-After", retryAfter)).Respond(200);
        using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = http.Connector,
            ConnectorOwner = false,
            Scheduler = scheduler,
            Timeout = ClientTimeout.None,
            Middlewares = new[]
            {
                RetryOperator.Middleware(new RetryOptions
                {
                    MaxAttempts = 2, BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(60), Random = () => 0,
                }),
            },
        });
        Exception? error = null;
        session.Get(Url).Subscribe(r => r.Release(), e => error = e);
        scheduler.AdvanceBy(TimeSpan.FromSeconds(120).Ticks);
        Assert.That(error, Is.Null, retryAfter);
        return http.Calls.Select(c => c.Time - Start).ToList();
    }

    [TestCase("Mon, 01 Mar 2026 12:00:30 GMT")]      // wrong weekday (Python's parsedate ignores it)
    [TestCase("Sun, 1 Mar 2026 12:00:30 GMT")]       // one-digit day
    [TestCase("Sun, 01 Mar 2026 12:0:30 GMT")]       // one-digit minute
    [TestCase("Sun, 01 Mar 2026 12:00:30 UTC")]
    [TestCase("Sun, 01 Mar 2026 12:00:30 +0000")]
    [TestCase("Sun, 01 Mar 2026 13:00:30 +0100")]    // an offset is honoured, not dropped
    [TestCase("Sun, 01 Mar 2026 12:00:30")]          // no zone: GMT
    [TestCase("01 Mar 2026 12:00:30 GMT")]           // no weekday
    [TestCase("sun, 01 mar 2026 12:00:30 gmt")]
    [TestCase("Sunday, 01-Mar-26 12:00:30 GMT")]     // RFC 850
    [TestCase("Sunday, 01-Mar-2026 12:00:30 GMT")]   // RFC 850 with a four-digit year
    [TestCase("Sun, 01-Mar-2026 12:00:30 GMT")]
    [TestCase("Sun Mar  1 12:00:30 2026")]           // asctime
    [TestCase("Mon Mar 1 12:00:30 2026")]            // asctime, single space, wrong weekday
    [TestCase("  Sun,  01  Mar  2026  12:00:30  GMT  ")]
    public void A_lenient_http_date_replaces_the_backoff_to_the_tick(string retryAfter) =>
        Assert.That(CallOffsets(retryAfter), Is.EqualTo(new[] { TimeSpan.Zero, TimeSpan.FromSeconds(30) }));

    [TestCase("Funday, 01 Mar 2026 12:00:30 GMT")]
    [TestCase("Sun, 01 Mar 2026 12:00:30 GMT, later")]
    [TestCase("Sun, 31 Feb 2026 12:00:30 GMT")]
    [TestCase("Sun, 01 Mar 2026 25:00:30 GMT")]
    [TestCase("Mon, 01 Jan 0001 00:00:00 +0100")]    // before DateTimeOffset.MinValue in UTC
    [TestCase("Fri, 31 Dec 9999 23:59:59 -0500")]    // past DateTimeOffset.MaxValue in UTC
    [TestCase("2026-03-01T12:00:30Z")]
    public void What_is_no_http_date_falls_back_to_the_backoff(string retryAfter) =>
        Assert.That(CallOffsets(retryAfter), Is.EqualTo(new[] { TimeSpan.Zero, TimeSpan.FromSeconds(1) }));

    [Test]
    public void The_last_representable_date_waits_MaxDelay_without_overflowing() =>
        Assert.That(CallOffsets("Fri, 31 Dec 9999 23:59:59 GMT"), Is.EqualTo(new[] { TimeSpan.Zero, TimeSpan.FromSeconds(60) }));

    [Test]
    public void A_date_in_the_past_retries_at_once()
    {
        var offsets = CallOffsets("Sat, 28 Feb 2026 12:00:00 UTC");
        // A zero wait still runs as a scheduled item, one virtual tick later; the point is it is not the 1 s backoff.
        Assert.That(offsets, Is.EqualTo(new[] { TimeSpan.Zero, TimeSpan.FromTicks(1) }));
    }
}
