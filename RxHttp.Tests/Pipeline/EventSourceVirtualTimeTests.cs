using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// ClientSession.EventSource through RxHttp.Testing's scripted server on TestScheduler: each event, reconnect and
/// wait to the tick, the Last-Event-ID it resumes from, and when it gives up. No socket.
/// </summary>
public class EventSourceVirtualTimeTests : ReactiveTest
{
    private const string Url = "https://stream.example.test/events";
    private static long S(double seconds) => TimeSpan.FromSeconds(seconds).Ticks;

    private static ClientSession Session(FakeHttp http, TestScheduler scheduler) => new(new ClientSessionOptions
    {
        Connector = http.Connector,
        ConnectorOwner = false,
        Scheduler = scheduler,
    });

    private static FakeResponse Stream() => FakeResponse.Status(200).Header("Content-Type", "text/event-stream");

    [Test]
    public void Events_arrive_as_sent_and_the_stream_that_ends_is_reopened_after_the_retry_with_its_last_id()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url)
            .Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "id: 1\ndata: a\n\n").Chunk(TimeSpan.FromSeconds(2), "id: 2\ndata: b\n\n"))
            .Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "retry: 500\ndata: c\n\n"))
            .Respond(Stream().NeverEnds());
        using var session = Session(http, scheduler);
        var events = scheduler.CreateObserver<string>();
        var subscription = session.EventSource(Url).Select(e => $"{e.Data}/{e.Id}").Subscribe(events);

        scheduler.AdvanceTo(S(20));
        Assert.That(events.Messages, Is.EqualTo(new[]
        {
            OnNext(S(1), "a/1"), OnNext(S(2), "b/2"),
            OnNext(S(6), "c/2"),
        }), "the second stream opens 3 s (the default) after the first ended at 2 s");
        Assert.That(http.Calls.Select(c => c.Time.UtcTicks), Is.EqualTo(new[] { 0, S(5), S(6.5) }),
            "the third 500 ms after the second ended, as its retry field said");
        Assert.That(http.Calls.Select(c => c.Header("Last-Event-ID")), Is.EqualTo(new[] { null, "2", "2" }));
        Assert.That(http.Calls.Select(c => (c.Header("Accept"), c.Header("Cache-Control"))),
            Is.All.EqualTo(("text/event-stream", "no-cache")));
        subscription.Dispose();
        Assert.That(http.Calls[2].Aborted, Is.True, "disposing closes the open stream");
    }

    [Test]
    public void A_connection_that_fails_is_retried_and_disposing_during_the_wait_cancels_the_reconnect()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url)
            .Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "data: a\n\n").ResetMidBody())
            .Fail(FakeFault.ConnectionRefused)
            .Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "data: b\n\n").NeverEnds());
        using var session = Session(http, scheduler);
        var events = scheduler.CreateObserver<string>();
        using (session.EventSource(Url, new EventSourceOptions { Retry = TimeSpan.FromSeconds(2) }).Select(e => e.Data).Subscribe(events))
        {
            scheduler.AdvanceTo(S(10));
            Assert.That(events.Messages, Is.EqualTo(new[] { OnNext(S(1), "a"), OnNext(S(6), "b") }),
                "reset at 1 s, refused at 3 s, open at 5 s");
        }
        var calls = http.Calls.Count;
        scheduler.AdvanceTo(S(100));
        Assert.That(http.Calls, Has.Count.EqualTo(calls));

        // Disposed while waiting to reconnect: nothing more is sent.
        var scheduler2 = new TestScheduler();
        using var http2 = new FakeHttp();
        http2.When("GET", Url).Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "data: a\n\n"));
        using var session2 = Session(http2, scheduler2);
        var subscription = session2.EventSource(Url).Subscribe(_ => { });
        scheduler2.AdvanceTo(S(2));
        subscription.Dispose();
        scheduler2.AdvanceTo(S(100));
        Assert.That(http2.Calls, Has.Count.EqualTo(1));
    }

    [Test]
    public void A_204_completes_and_another_status_or_content_type_fails_without_reconnecting()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url + "/done").Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "data: a\n\n")).Respond(204);
        http.When("GET", Url + "/gone").Respond(503, "down");
        http.When("GET", Url + "/html").Respond(200, "<html>");
        using var session = Session(http, scheduler);
        var done = scheduler.CreateObserver<string>();
        var gone = scheduler.CreateObserver<string>();
        var html = scheduler.CreateObserver<string>();
        session.EventSource(Url + "/done").Select(e => e.Data).Subscribe(done);
        session.EventSource(Url + "/gone").Select(e => e.Data).Subscribe(gone);
        session.EventSource(Url + "/html").Select(e => e.Data).Subscribe(html);
        scheduler.AdvanceTo(S(60));

        Assert.That(done.Messages, Is.EqualTo(new[] { OnNext(S(1), "a"), OnCompleted<string>(S(4)) }));
        var error = gone.Messages.Single();
        Assert.That(error.Time, Is.Zero);
        Assert.That(error.Value.Exception, Is.TypeOf<ClientResponseError>().And.Property("Status").EqualTo(503));
        Assert.That(html.Messages.Single().Value.Exception, Is.TypeOf<ContentTypeError>());
        Assert.That(http.Calls.Count(c => c.Url.EndsWith("/gone")) + http.Calls.Count(c => c.Url.EndsWith("/html")), Is.EqualTo(2));
    }

    [Test]
    public void MaxReconnects_gives_up_after_that_many_fruitless_reconnects_in_a_row()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url)
            // Closing: a refusal happens while connecting, which a kept-alive connection would skip.
            .Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "data: a\n\n").CloseConnection())
            .Fail(FakeFault.ConnectionRefused).Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "data: b\n\n").CloseConnection())
            .Fail(FakeFault.ConnectionRefused).Fail(FakeFault.ConnectionRefused);
        using var session = Session(http, scheduler);
        var events = scheduler.CreateObserver<string>();
        session.EventSource(Url, new EventSourceOptions { Retry = TimeSpan.FromSeconds(1), MaxReconnects = 2 }).Select(e => e.Data).Subscribe(events);
        scheduler.AdvanceTo(S(60));

        // a at 1, ended at 1; refused at 2; b at 4 (a new event: the count starts again), ended at 4; refused at 5 and
        // 6; the third reconnect in a row is not made.
        Assert.That(events.Messages.Take(2), Is.EqualTo(new[] { OnNext(S(1), "a"), OnNext(S(4), "b") }));
        Assert.That(events.Messages[2].Time, Is.EqualTo(S(6)));
        Assert.That(events.Messages[2].Value.Exception, Is.InstanceOf<ClientConnectorError>());
        Assert.That(http.Calls.Select(c => c.Time.UtcTicks), Is.EqualTo(new[] { 0, S(3) }), "refused connections carry no request");
    }

    [Test]
    public void States_tell_a_UI_each_attempt_the_open_stream_the_wait_and_the_end()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url)
            .Respond(Stream().Event(TimeSpan.FromSeconds(1), "a", retry: TimeSpan.FromSeconds(2)).CloseConnection())
            .Fail(FakeFault.ConnectionRefused)
            .Respond(Stream().After(TimeSpan.FromSeconds(1)).Event(TimeSpan.FromSeconds(1), "b").NeverEnds());
        using var session = Session(http, scheduler);
        var states = scheduler.CreateObserver<EventSourceState>();
        var subscription = session.EventSource(Url, new EventSourceOptions { States = states }).Subscribe(_ => { });
        scheduler.AdvanceTo(S(10));
        subscription.Dispose();
        subscription.Dispose();
        // A stream that ends at 1 s, a refusal at 3 s, a head at 6 s after a 1 s wait for it, then disposed at 10 s.
        Assert.That(states.Messages, Is.EqualTo(new[]
        {
            OnNext(0, EventSourceState.Connecting), OnNext(0, EventSourceState.Open), OnNext(S(1), EventSourceState.Waiting),
            OnNext(S(3), EventSourceState.Connecting), OnNext(S(3), EventSourceState.Waiting),
            OnNext(S(5), EventSourceState.Connecting), OnNext(S(6), EventSourceState.Open),
            OnNext(S(10), EventSourceState.Closed), OnCompleted<EventSourceState>(S(10)),
        }));

        var failed = scheduler.CreateObserver<EventSourceState>();
        http.When("GET", Url + "/gone").Respond(404);
        session.EventSource(Url + "/gone", new EventSourceOptions { States = failed }).Subscribe(_ => { }, _ => { });
        scheduler.AdvanceBy(1);
        Assert.That(failed.Messages.Select(m => m.Value.Kind == System.Reactive.NotificationKind.OnNext ? m.Value.Value.ToString() : "end"),
            Is.EqualTo(new[] { "Connecting", "Closed", "end" }));
    }

    [Test]
    public void An_events_Retry_is_null_until_a_stream_sets_one_while_the_wait_uses_the_option()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url)
            .Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "data: a\n\n"))
            .Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "retry: 500\ndata: b\n\n"))
            .Respond(Stream().Chunk(TimeSpan.FromSeconds(1), "data: c\n\n"))
            .Respond(Stream().NeverEnds());
        using var session = Session(http, scheduler);
        var events = scheduler.CreateObserver<string>();
        session.EventSource(Url, new EventSourceOptions { Retry = TimeSpan.FromSeconds(10) })
            .Select(e => $"{e.Data}/{e.Retry?.TotalMilliseconds.ToString() ?? "null"}").Subscribe(events);

        scheduler.AdvanceTo(S(30));
        Assert.That(events.Messages, Is.EqualTo(new[]
        {
            OnNext(S(1), "a/null"), OnNext(S(12), "b/500"), OnNext(S(13.5), "c/500"),
        }), "as Events() gives it: the stream set no retry before b, so the option's 10 s is not the event's");
        Assert.That(http.Calls.Select(c => c.Time.UtcTicks), Is.EqualTo(new[] { 0, S(11), S(12.5), S(14) }),
            "the option's 10 s until the stream's retry field, then its 500 ms");
    }

    [TestCase("a\nb")]
    [TestCase("a\rb")]
    [TestCase("a\0b")]
    public void A_LastEventId_no_stream_could_give_is_refused_when_the_source_is_made(string id)
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        using var session = Session(http, scheduler);
        var states = scheduler.CreateObserver<EventSourceState>();
        Assert.Throws<ArgumentException>(() => session.EventSource(Url, new EventSourceOptions { LastEventId = id, States = states }),
            "as the other options are checked: found at the first request, it failed inside Subscribe after Connecting, with no Closed");
        Assert.That(states.Messages, Is.Empty);
        Assert.That(http.Calls, Is.Empty);
    }

    [Test]
    public void A_scripted_event_stream_reads_back_as_sent()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(FakeResponse.Status(200)
            .Event(TimeSpan.FromSeconds(1), "two\nlines", eventType: "note", id: "a", retry: TimeSpan.FromSeconds(9))
            .Event(TimeSpan.FromSeconds(2), "")
            .NeverEnds());
        using var session = Session(http, scheduler);
        var events = scheduler.CreateObserver<ServerSentEvent>();
        session.EventSource(Url).Subscribe(events);
        scheduler.AdvanceTo(S(5));
        Assert.That(events.Messages, Is.EqualTo(new[]
        {
            OnNext(S(1), new ServerSentEvent("note", "two\nlines", "a", TimeSpan.FromSeconds(9))),
            OnNext(S(2), new ServerSentEvent("message", "", "a", TimeSpan.FromSeconds(9))),
        }));
    }

    [Test]
    public void The_session_total_timeout_does_not_cut_the_stream_but_the_requests_own_does()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(Stream().Chunk(TimeSpan.FromMinutes(10), "data: late\n\n").NeverEnds());
        using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = http.Connector, ConnectorOwner = false, Scheduler = scheduler, Timeout = TimeSpan.FromMinutes(5),
        });
        var events = scheduler.CreateObserver<string>();
        session.EventSource(Url).Select(e => e.Data).Subscribe(events);
        var own = scheduler.CreateObserver<string>();
        session.EventSource(Url, new EventSourceOptions { MaxReconnects = 0, Request = new RequestOptions { Timeout = TimeSpan.FromMinutes(1) } })
            .Select(e => e.Data).Subscribe(own);
        scheduler.AdvanceTo(S(700));
        Assert.That(events.Messages, Is.EqualTo(new[] { OnNext(S(600), "late") }));
        Assert.That(own.Messages.Single().Value.Exception, Is.InstanceOf<TotalTimeoutError>());
        Assert.That(own.Messages.Single().Time, Is.EqualTo(S(60)));
    }
}
