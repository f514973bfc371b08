using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Testing;

/// <summary>
/// Whose clock a scripted delay runs on: the request's own (<see cref="RequestOptions.Scheduler"/>,
/// <see cref="WsConnectOptions.Scheduler"/>), else its session's, even when other sessions on other clocks share the fake.
/// </summary>
public class FakeHttpClockTests : ReactiveTest
{
    private const string Api = "https://api.example.test";

    private static long S(double seconds) => (long)(seconds * TimeSpan.TicksPerSecond);

    [Test]
    public void A_request_on_its_own_clock_gets_its_scripted_head_and_slices_on_that_clock()
    {
        using var http = new FakeHttp();
        http.When(Api + "/slow").Respond(FakeResponse.Status(200).After(TimeSpan.FromSeconds(2))
            .Chunk(TimeSpan.FromSeconds(2), "a").Chunk(TimeSpan.FromSeconds(5), "b"));
        var sessionClock = new TestScheduler();
        using var shared = http.CreateSession(sessionClock);
        var requestClock = new TestScheduler();
        requestClock.AdvanceTo(S(100));
        var observer = requestClock.CreateObserver<string>();

        using var _ = shared.Get(Api + "/slow", new RequestOptions { Scheduler = requestClock })
            .SelectMany(r => r.Content.Select(c => Encoding.UTF8.GetString(c.Span))).Subscribe(observer);
        sessionClock.AdvanceBy(TimeSpan.FromHours(1).Ticks);
        Assert.That(observer.Messages, Is.Empty, "the session's clock times nothing of this request");
        requestClock.AdvanceBy(S(10));

        observer.Messages.AssertEqual(OnNext(S(102), "a"), OnNext(S(105), "b"), OnCompleted<string>(S(105)));
        Assert.That(http.Calls.Single().Time.UtcTicks, Is.EqualTo(S(100)), "the call is stamped on the request's clock");
    }

    [Test]
    public void Two_sessions_on_their_own_clocks_share_one_fake()
    {
        using var http = new FakeHttp();
        http.When(Api + "/slow").Respond(FakeResponse.Status(200).Text("ok").After(TimeSpan.FromSeconds(2)));
        var first = new TestScheduler();
        var second = new TestScheduler();
        using var a = http.CreateSession(first);
        using var b = http.CreateSession(second); // the connector's own clock is now the second session's

        var seen = first.CreateObserver<string>();
        using var _ = a.Get(Api + "/slow").SelectMany(r => r.Text()).Subscribe(seen);
        second.AdvanceBy(S(10));
        Assert.That(seen.Messages, Is.Empty, "the other session's clock times nothing of this one's requests");
        first.AdvanceBy(S(3));

        seen.Messages.AssertEqual(OnNext(S(2), "ok"), OnCompleted<string>(S(2)));
    }

    [Test]
    public void A_websocket_on_its_own_clock_gets_its_scripted_frames_on_that_clock()
    {
        using var http = new FakeHttp();
        http.WhenWebSocket("wss://ws.example.test/feed").SendText(TimeSpan.FromSeconds(1), "one").Close(TimeSpan.FromSeconds(4), 4000);
        var sessionClock = new TestScheduler();
        using var shared = http.CreateSession(sessionClock);
        var socketClock = new TestScheduler();
        ClientWebSocket? socket = null;
        using var connect = shared.WsConnect("wss://ws.example.test/feed", new WsConnectOptions { Scheduler = socketClock }).Subscribe(ws => socket = ws);
        Assert.That(socket, Is.Not.Null, "connected within the subscription");
        var messages = socketClock.CreateObserver<string>();
        using var _ = socket!.Messages.Select(m => m.Type + " " + (m.Type == WsMsgType.Close ? m.CloseCode?.ToString() : m.Text)).Subscribe(messages);

        sessionClock.AdvanceBy(TimeSpan.FromHours(1).Ticks);
        Assert.That(messages.Messages, Is.Empty, "the session's clock times nothing of this websocket");
        socketClock.AdvanceBy(S(5));

        messages.Messages.AssertEqual(OnNext(S(1), "Text one"), OnNext(S(4), "Close 4000"), OnCompleted<string>(S(4)));
        Assert.That(http.WebSockets.Single().Received.Last().Time.UtcTicks, Is.EqualTo(S(4)), "the client's close echo, stamped on the websocket's clock");
    }

    // A body observable's chunks went through a channel whose reader continued on the thread pool: the upload, and the
    // response after it, left the virtual clock for a real thread and came after AdvanceBy had returned, or never.
    [Test]
    public void An_observable_body_is_sent_inline_at_its_ticks_and_its_response_comes_at_the_tick_it_completes()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("POST", Api + "/upload").Respond(201, "stored");
        using var session = http.CreateSession(scheduler);
        var body = scheduler.CreateColdObservable(OnNext(10, new byte[] { 1, 2 }), OnNext(20, new byte[] { 3 }), OnCompleted<byte[]>(30));
        var threads = new HashSet<int>();

        var res = scheduler.Start(() => session.Post(Api + "/upload", new RequestOptions { Data = body.Select(b => (ReadOnlyMemory<byte>)b) })
            .SelectMany(r => r.Text().Select(t => $"{r.Status} {t}")).Do(_ => threads.Add(Environment.CurrentManagedThreadId)));

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(230, "201 stored"), OnCompleted<string>(230) }));
        Assert.That(threads, Is.EqualTo(new[] { Environment.CurrentManagedThreadId }));
        var call = http.Calls.Single();
        Assert.That((call.Body, call.Time.UtcTicks), Is.EqualTo((new byte[] { 1, 2, 3 }, 230L)));
    }

    // A streaming read that found more than a few chunks ready inside Subscribe yielded to the thread pool, to let
    // Subscribe return; on a virtual clock that put the rest of the body, and all that followed, on a real thread.
    [Test]
    public void A_body_of_many_chunks_ready_at_once_is_streamed_inside_the_tick_on_the_clocks_thread()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Api + "/big").Respond(FakeResponse.Status(200).Bytes(new byte[6 << 20]));
        var lines = FakeResponse.Status(200);
        for (var i = 0; i < 40; i++) lines.Chunk(TimeSpan.FromTicks(5), $"line {i}\n");
        http.When("GET", Api + "/lines").Respond(lines);
        using var session = http.CreateSession(scheduler);
        var threads = new HashSet<int>();
        IObservable<string> Count<T>(string path, Func<ClientResponse, IObservable<T>> read) =>
            session.Get(Api + path).SelectMany(r => read(r).Do(_ => threads.Add(Environment.CurrentManagedThreadId)).Count().Select(n => $"{path} {n}"));

        var res = scheduler.Start(() => Count("/big", r => r.BorrowedContent).Concat(Count("/big", r => r.Content)).Concat(Count("/lines", r => r.Lines())));

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(200, "/big 25"), OnNext(200, "/big 97"), OnNext(205, "/lines 40"), OnCompleted<string>(205) }));
        Assert.That(threads, Is.EqualTo(new[] { Environment.CurrentManagedThreadId }));
    }
}
