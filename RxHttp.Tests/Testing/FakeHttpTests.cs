using System.Net.Sockets;
using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Testing;

namespace RxHttp.Tests.Testing;

/// <summary>The fake server behind a real session: responses, recording, unscripted calls and bad input.</summary>
public class FakeHttpTests : ReactiveTest
{
    private const string Api = "https://api.example.test";

    [Test]
    public void A_scripted_response_arrives_at_the_subscription_tick()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Api + "/items/*").Respond(FakeResponse.Status(200).Text("hello").Header("X-Id", "7"));
        using var session = http.CreateSession(scheduler);

        var res = scheduler.Start(() => session.Get(Api + "/items/1").SelectMany(r => r.Text().Select(t => $"{r.Status} {r.Headers.Get("X-Id")} {t}")));

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(200, "200 7 hello"), OnCompleted<string>(200) }));
        http.ShouldHaveCalled(Api + "/items/*").WithVerb("GET").WithHeader("Host", "api.example.test").Times(1);
    }

    [Test]
    public void Json_bodies_round_trip_and_request_bodies_are_recorded()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("POST", Api + "/echo").RespondJson(new { name = "ada", age = 36 }, status: 201);
        using var session = http.CreateSession(scheduler);

        var res = scheduler.Start(() => session.Post(Api + "/echo", new RequestOptions { Json = new { q = "x" } })
            .SelectMany(r => r.Json<Person>().Select(p => $"{r.Status} {p!.Name} {p.Age}")));

        Assert.That(res.Messages[0].Value.Value, Is.EqualTo("201 ada 36"));
        http.ShouldHaveCalled(Api + "/echo").WithVerb("POST").WithHeader("Content-Type", "application/json*").WithRequestBody("{\"q\":\"x\"}");
    }

    [Test]
    public void A_body_pattern_spans_lines_and_keeps_case()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("POST", Api + "/upload").Respond(201);
        using var session = http.CreateSession(scheduler);
        var form = new FormData().AddField("name", "rx").AddField("note", "hello rx", "text/plain", "note.txt");

        scheduler.Start(() => session.Post(Api + "/upload", new RequestOptions { Data = form })
            .Concat(session.Post(Api + "/upload", new RequestOptions { Json = new { q = "rx" } })).Select(r => r.Status));

        http.ShouldHaveCalled(Api + "/upload").WithRequestBody("*name=\"note\"; filename=\"note.txt\"*hello rx*").Times(1);
        http.ShouldHaveCalled(Api + "/upload").WithRequestBody("{\"q\":*}").Times(1);
        Assert.Throws<HttpCallAssertionException>(() => http.ShouldHaveCalled(Api + "/upload").WithRequestBody("{\"Q\":*}"), "a JSON property's case matters");
    }

    private sealed record Person(string Name, int Age);

    [Test]
    public void Body_slices_arrive_at_their_virtual_times()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/stream").Respond(FakeResponse.Status(200)
            .Chunk(TimeSpan.FromTicks(30), "ab").Chunk(TimeSpan.FromTicks(50), "cde"));
        using var session = http.CreateSession(scheduler);

        var res = scheduler.Start(() => session.Get(Api + "/stream").SelectMany(r => r.Content.Select(c => Encoding.UTF8.GetString(c.Span))));

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(230, "ab"), OnNext(250, "cde"), OnCompleted<string>(250) }));
    }

    [Test]
    public void An_endless_body_ends_when_the_subscriber_leaves_and_the_fake_records_the_abort()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/feed").Respond(FakeResponse.Status(200).Chunk(TimeSpan.FromTicks(10), "x").NeverEnds());
        using var session = http.CreateSession(scheduler);

        var res = scheduler.Start(() => session.Get(Api + "/feed").SelectMany(r => r.Content.Select(c => c.Length)), 100, 200, 500);

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(210, 1) }));
        http.ShouldHaveCalled(Api + "/feed").Aborted().Times(1);
        Assert.That(session.Connector.CurrentState.InUse, Is.Zero, "the connection was closed, not leaked");
    }

    // Flurl's HttpTest logs a call as it is sent; here one abandoned mid-upload had never reached the fake's log.
    [Test]
    public void An_upload_abandoned_mid_body_is_recorded_as_aborted_with_what_arrived()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        var route = http.When("POST", Api + "/upload").Respond(201);
        using var session = http.CreateSession(scheduler);
        // A body whose source has given two bytes and waits for more, until the subscriber leaves.
        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(readerScheduler: System.IO.Pipelines.PipeScheduler.Inline,
            writerScheduler: System.IO.Pipelines.PipeScheduler.Inline, useSynchronizationContext: false));
        pipe.Writer.WriteAsync(new byte[] { 1, 2 }).AsTask().Wait();

        var res = scheduler.Start(() => session.Post(Api + "/upload", new RequestOptions { Data = new StreamPayload(pipe.Reader.AsStream()) }), 100, 200, 300);

        Assert.That(res.Messages, Is.Empty);
        var call = http.ShouldHaveCalled(Api + "/upload").WithVerb("POST").Aborted().Times(1).Calls.Single();
        Assert.That((call.Body, call.Response, call.Unmatched, call.Completed, call.Time.UtcTicks), Is.EqualTo((new byte[] { 1, 2 }, (FakeResponse?)null, false, false, 300L)));
        Assert.That(call.ToString(), Does.Contain("not sent in full").And.Contain("(aborted)"));
        Assert.That(route.CallCount, Is.Zero, "no script answered it");
        Assert.That(session.Connector.CurrentState.InUse, Is.Zero);
    }

    // The client closes such a connection inline as it reads the last byte, before a later action could mark the call done.
    [Test]
    public void A_delayed_response_sent_in_full_is_not_recorded_as_aborted_when_the_connection_closes_after_it()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/bye").Respond(FakeResponse.Status(200).Text("bye").After(TimeSpan.FromTicks(10)).CloseConnection());
        http.When(Api + "/feed").Respond(FakeResponse.Status(200).Chunk(TimeSpan.FromTicks(10), "x"));
        using var session = http.CreateSession(scheduler);
        var closing = new RequestOptions { Headers = new Dictionary<string, string> { ["Connection"] = "close" } };

        var res = scheduler.Start(() => session.Get(Api + "/bye").SelectMany(r => r.Text())
            .Concat(session.Get(Api + "/feed", closing).SelectMany(r => r.Text())));

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(210, "bye"), OnNext(220, "x"), OnCompleted<string>(220) }));
        Assert.That(http.Calls.Select(c => (c.Completed, c.Aborted)), Is.EqualTo(new[] { (true, false), (true, false) }));
        Assert.Throws<HttpCallAssertionException>(() => http.ShouldHaveCalled().Aborted());
    }

    [Test]
    public void Gzip_bodies_are_decompressed_by_the_real_pipeline()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/z").Respond(FakeResponse.Status(200).Text("squeezed").Gzip());
        using var session = http.CreateSession(scheduler);
        var res = scheduler.Start(() => session.Get(Api + "/z").SelectMany(r => r.Text()));
        Assert.That(res.Messages[0].Value.Value, Is.EqualTo("squeezed"));
    }

    // Each slice compressed as a stream flushed at its end, as a compressing server sends it: decodable at its tick.
    [Test]
    public void A_gzipped_body_in_slices_is_decoded_slice_by_slice_at_their_ticks()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/z").Respond(FakeResponse.Status(200).Chunk(TimeSpan.FromTicks(10), "hello ").Chunk(TimeSpan.FromTicks(20), "world").Gzip());
        http.When(Api + "/feed").Respond(FakeResponse.Status(200).Event(TimeSpan.FromTicks(5), "a").NeverEnds().Gzip());
        using var session = http.CreateSession(scheduler);

        var res = scheduler.Start(() => session.Get(Api + "/z").SelectMany(r => r.Content.Select(c => Encoding.UTF8.GetString(c.Span))));
        var clock = new TestScheduler();
        var feed = clock.CreateObserver<string>();
        using var _ = session.Get(Api + "/feed", new RequestOptions { Scheduler = clock }).SelectMany(r => r.Content.Select(c => Encoding.UTF8.GetString(c.Span))).Subscribe(feed);
        clock.AdvanceBy(100);

        Assert.That(res.Messages, Is.EqualTo(new[] { OnNext(210, "hello "), OnNext(220, "world"), OnCompleted<string>(220) }));
        Assert.That(feed.Messages, Is.EqualTo(new[] { OnNext(5, "data: a\n\n") }), "an endless gzip stream is not ended");
        var late = FakeResponse.Status(200).Text("x").Gzip();
        Assert.Throws<InvalidOperationException>(() => late.Chunk(TimeSpan.FromTicks(1), "y"), "a slice after Gzip() would go out uncompressed");
        Assert.Throws<InvalidOperationException>(() => late.Text("z"));
    }

    [Test]
    public void Redirects_and_cookies_run_for_real()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Api + "/login").Respond(FakeResponse.Redirect("/home").SetCookie("sid=42; Path=/"));
        http.When("GET", Api + "/home").Respond(200, "welcome");
        using var session = http.CreateSession(scheduler);

        var res = scheduler.Start(() => session.Get(Api + "/login").SelectMany(r => r.Text().Select(t => $"{r.Url} {r.History.Count} {t}")));

        Assert.That(res.Messages[0].Value.Value, Is.EqualTo(Api + "/home 1 welcome"));
        http.ShouldHaveCalled(Api + "/home").WithHeader("Cookie", "sid=42").Times(1);
    }

    [Test]
    public void Responses_are_given_in_turn_and_the_last_one_repeats()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/n").Respond(200, "one").Respond(200, "two");
        using var session = http.CreateSession(scheduler);
        var res = scheduler.Start(() => Observable.Range(0, 3).Select(_ => session.Get(Api + "/n").SelectMany(r => r.Text())).Concat().ToList().Select(l => string.Join(",", l)));
        Assert.That(res.Messages[0].Value.Value, Is.EqualTo("one,two,two"));
    }

    [Test]
    public void An_unscripted_request_fails_naming_it_and_what_is_scripted()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Api + "/known").Respond(200);
        using var session = http.CreateSession(scheduler);

        var res = scheduler.Start(() => session.Delete(Api + "/unknown?x=1"));

        var error = res.Messages.Single().Value.Exception;
        Assert.That(error, Is.TypeOf<UnscriptedRequestException>());
        Assert.That(error!.Message, Does.Contain("DELETE " + Api + "/unknown?x=1").And.Contain("GET " + Api + "/known"));
        Assert.That(http.Calls.Single().Unmatched, Is.True);
    }

    [Test]
    public void A_predicates_own_exception_reaches_the_subscriber_unchanged()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        var mine = new ApplicationException("my predicate broke");
        http.When(_ => throw mine).Respond(200);
        using var session = http.CreateSession(scheduler);
        var res = scheduler.Start(() => session.Get(Api + "/"));
        Assert.That(res.Messages.Single().Value.Exception, Is.SameAs(mine));
    }

    [Test]
    public void Raise_for_status_runs_on_scripted_statuses()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/missing").Respond(FakeResponse.Status(404).Reason("Nope"));
        using var session = http.CreateSession(scheduler);
        var res = scheduler.Start(() => session.Get(Api + "/missing", new RequestOptions { RaiseForStatus = true }));
        Assert.That(res.Messages.Single().Value.Exception, Is.TypeOf<ClientResponseError>().With.Property("Status").EqualTo(404));
    }

    [Test]
    public void Call_assertions_list_the_calls_made_when_they_fail()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/*").Respond(200);
        using var session = http.CreateSession(scheduler);
        scheduler.Start(() => session.Get(Api + "/a").Concat(session.Post(Api + "/b")));

        var e = Assert.Throws<HttpCallAssertionException>(() => http.ShouldHaveCalled(Api + "/b").WithVerb("PUT"))!;
        Assert.That(e.Message, Does.Contain("with verb PUT").And.Contain("1. GET " + Api + "/a").And.Contain("2. POST " + Api + "/b"));
        Assert.That(e.Message, Does.Contain("but none matched: 1 call met the conditions before \"with verb PUT\"").And.Not.Contain("none was made"));
        Assert.That(Assert.Throws<HttpCallAssertionException>(() => http.ShouldHaveCalled(Api + "/c"))!.Message, Does.Contain("but none matched."));
        Assert.Throws<HttpCallAssertionException>(() => http.ShouldHaveCalled(Api + "/a").Times(2));
        Assert.Throws<HttpCallAssertionException>(() => http.ShouldNotHaveMadeAnyCalls());
        Assert.Throws<HttpCallAssertionException>(() => http.ShouldHaveCalled("https://unknown.test/*"));
        Assert.DoesNotThrow(() => http.ShouldNotHaveCalled("https://unknown.test/*"));
    }

    [Test]
    public void No_calls_is_asserted_as_such()
    {
        using var http = new FakeHttp();
        http.ShouldNotHaveMadeAnyCalls();
        var e = Assert.Throws<HttpCallAssertionException>(() => http.ShouldHaveCalled())!;
        Assert.That(e.Message, Does.Contain("No calls were made."));
    }

    [TestCase("search")]
    [TestCase("/api/items")]
    [TestCase("ftp://host/x")]
    public void A_pattern_that_can_never_match_is_rejected(string pattern)
    {
        using var http = new FakeHttp();
        var e = Assert.Throws<ArgumentException>(() => http.When("GET", pattern))!;
        Assert.That(e.Message, Does.Contain("can never match").And.Contain(pattern));
    }

    [Test]
    public void A_script_shadowed_by_an_earlier_one_is_rejected()
    {
        using var http = new FakeHttp();
        http.When(Api + "/x").Respond(200);
        var e = Assert.Throws<ArgumentException>(() => http.When("GET", Api + "/x"))!;
        Assert.That(e.Message, Does.Contain("can never match"));
        Assert.Throws<ArgumentException>(() => http.When("GE T", Api + "/y"));
        Assert.Throws<ArgumentException>(() => http.WhenWebSocket("https://api/ws"));
    }

    [Test]
    public void Advancing_the_clock_backwards_is_a_clear_error()
    {
        var scheduler = new TestScheduler();
        scheduler.AdvanceTo(1000);
        Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.AdvanceTo(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.AdvanceBy(-1));
    }

    [Test]
    public void Reading_a_body_twice_is_a_clear_error()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When(Api + "/once").Respond(FakeResponse.Status(200).Chunk(TimeSpan.FromTicks(5), "a").Chunk(TimeSpan.FromTicks(10), "b"));
        using var session = http.CreateSession(scheduler);
        ClientResponse? response = null;
        session.Get(Api + "/once").Subscribe(r => response = r);
        var first = response!.Content.Subscribe(_ => { });
        var second = scheduler.CreateObserver<ReadOnlyMemory<byte>>();
        response.Content.Subscribe(second);
        Assert.That(second.Messages.Single().Value.Exception, Is.InstanceOf<InvalidOperationException>().Or.InstanceOf<ClientError>());
        first.Dispose();
    }

    [Test]
    public void A_fake_session_opens_no_socket_and_resolves_no_name()
    {
        using var listener = new SocketEventListener();
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("https://nowhere.invalid/*").Respond(200, "ok");
        using var session = http.CreateSession(scheduler);
        var res = scheduler.Start(() => session.Get("https://nowhere.invalid/x").SelectMany(r => r.Text()));
        Assert.That(res.Messages[0].Value.Value, Is.EqualTo("ok"));
        Assert.That(http.ConnectionsOpened, Is.EqualTo(1));
        Assert.That(listener.Events, Is.Empty, "no socket connect and no DNS lookup");
    }

    [Test]
    public void The_socket_listener_used_above_does_see_a_real_connect()
    {
        using var listener = new SocketEventListener();
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try { s.Connect(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1)); } catch (SocketException) { }
        Assert.That(listener.Events, Is.Not.Empty);
    }
}
