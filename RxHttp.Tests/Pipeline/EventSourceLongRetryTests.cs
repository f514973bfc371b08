using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// A server's SSE <c>retry</c> field longer than the ~49.7 days a <see cref="System.Threading.Timer"/> accepts: the
/// stream waits that long (in virtual time, to the tick), rather than failing with the default scheduler's
/// ArgumentOutOfRangeException. Browsers take any retry value the stream sends.
/// </summary>
public class EventSourceLongRetryTests : ReactiveTest
{
    private const string Url = "https://stream.example.test/events";
    private static readonly TimeSpan SixtyDays = TimeSpan.FromDays(60);

    private static FakeResponse StreamWithRetry() =>
        FakeResponse.Status(200).Header("Content-Type", "text/event-stream").Chunk(TimeSpan.Zero, $"retry: {(long)SixtyDays.TotalMilliseconds}\ndata: a\n\n");

    [Test]
    public void On_the_default_scheduler_a_sixty_day_retry_waits_instead_of_failing_the_stream()
    {
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(StreamWithRetry());
        using var session = http.CreateSession(DefaultScheduler.Instance);
        var states = new List<EventSourceState>();
        using var stateSubject = new Subject<EventSourceState>();
        using var _ = stateSubject.Subscribe(states.Add);
        var seen = new List<string>();

        // The scripted stream has no delay: it is sent, read and ended inside Subscribe, the wait started there too.
        var subscription = session.EventSource(Url, new EventSourceOptions { States = stateSubject })
            .Subscribe(e => seen.Add(e.Data), e => seen.Add("error " + e.GetType().Name), () => seen.Add("completed"));

        Assert.That(seen, Is.EqualTo(new[] { "a" }), "the event, and no ArgumentOutOfRangeException from arming the wait");
        Assert.That(states, Is.EqualTo(new[] { EventSourceState.Connecting, EventSourceState.Open, EventSourceState.Waiting }));
        subscription.Dispose();
        Assert.That(states[^1], Is.EqualTo(EventSourceState.Closed));
        Assert.That(http.Calls, Has.Count.EqualTo(1));
    }

    [Test]
    public void In_virtual_time_a_sixty_day_retry_reconnects_sixty_days_later_to_the_tick()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(StreamWithRetry()).Respond(FakeResponse.Status(204));
        using var session = http.CreateSession(scheduler);
        var events = scheduler.CreateObserver<string>();
        using var subscription = session.EventSource(Url).Select(e => e.Data).Subscribe(events);

        scheduler.AdvanceTo(SixtyDays.Ticks - 1);
        Assert.That(http.Calls, Has.Count.EqualTo(1), "still waiting one tick before the 60 days are up");
        scheduler.AdvanceTo(SixtyDays.Ticks + 1);

        events.Messages.AssertEqual(OnNext(0, "a"), OnCompleted<string>(SixtyDays.Ticks));
        Assert.That(http.Calls.Select(c => c.Time.UtcTicks), Is.EqualTo(new[] { 0, SixtyDays.Ticks }));
    }
}
