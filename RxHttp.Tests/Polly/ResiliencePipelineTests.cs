using System.Reactive.Linq;
using NUnit.Framework;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using RxHttp.Extensions.Polly;
using RxHttp.Testing;

namespace RxHttp.Tests.Polly;

/// <summary>
/// The Polly 8 adapter through RxHttp.Testing's scripted server, with Polly's clock on the session's TestScheduler
/// (<see cref="SchedulerTimeProvider"/>): retry, timeout, circuit breaker, cancellation both ways. No socket.
/// </summary>
public class ResiliencePipelineTests : ReactiveTest
{
    private const string Url = "https://api.example.test/items";
    private static long S(double seconds) => TimeSpan.FromSeconds(seconds).Ticks;

    private static ValueTask<bool> Is503(Outcome<ClientResponse> outcome) => ValueTask.FromResult(outcome.Result?.Status == 503);

    private static RetryStrategyOptions<ClientResponse> RetryOn503(List<ClientResponse>? seen = null) => new()
    {
        MaxRetryAttempts = 3,
        Delay = TimeSpan.FromSeconds(1),
        BackoffType = DelayBackoffType.Constant,
        UseJitter = false,
        ShouldHandle = args =>
        {
            if (args.Outcome.Result is { } r) seen?.Add(r);
            return Is503(args.Outcome);
        },
    };

    [Test]
    public void A_503_is_retried_on_the_scheduler_and_the_failed_attempts_responses_are_disposed()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(503, "busy").Respond(503, "busy").Respond(200, "ok");
        // StreamResponse: bodies stay on their connections until read or disposed, so Closed tells which were disposed.
        using var session = new ClientSession(new ClientSessionOptions { Connector = http.Connector, ConnectorOwner = false, Scheduler = scheduler, StreamResponse = true });
        var seen = new List<ClientResponse>();
        var pipeline = new ResiliencePipelineBuilder<ClientResponse> { TimeProvider = scheduler.AsTimeProvider() }.AddRetry(RetryOn503(seen)).Build();
        var results = scheduler.CreateObserver<int>();
        session.Get(Url).WithResilience(pipeline).Select(r => r.Status).Subscribe(results);

        Assert.That(http.Calls, Has.Count.EqualTo(1));
        scheduler.AdvanceTo(S(1));
        Assert.That(http.Calls, Has.Count.EqualTo(2), "Polly's delay ran on the TestScheduler");
        scheduler.AdvanceTo(S(2));
        Assert.That(http.Calls.Select(c => c.Time.UtcTicks), Is.EqualTo(new[] { 0, S(1), S(2) }));
        Assert.That(results.Messages, Is.EqualTo(new[] { OnNext(S(2), 200), OnCompleted<int>(S(2)) }));
        Assert.That(seen.Take(2).Select(r => r.Closed), Is.All.True, "the 503s were disposed");
        Assert.That(seen[2].Closed, Is.False, "the outcome is the caller's");
    }

    [Test]
    public void The_timeout_strategy_cancels_the_request_and_closes_its_connection()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(FakeResponse.Status(200).Text("late").After(TimeSpan.FromSeconds(30)));
        using var session = http.CreateSession(scheduler, ClientTimeout.None);
        var pipeline = new ResiliencePipelineBuilder<ClientResponse> { TimeProvider = scheduler.AsTimeProvider() }.AddTimeout(TimeSpan.FromSeconds(5)).Build();
        var results = scheduler.CreateObserver<ClientResponse>();
        session.Get(Url).WithResilience(pipeline).Subscribe(results);

        scheduler.AdvanceTo(S(5) - 1);
        Assert.That(results.Messages, Is.Empty);
        Assert.That(http.Calls.Single().Aborted, Is.False);
        scheduler.AdvanceTo(S(5));
        Assert.That(results.Messages.Single().Time, Is.EqualTo(S(5)));
        Assert.That(results.Messages.Single().Value.Exception, Is.InstanceOf<TimeoutRejectedException>());
        Assert.That(http.Calls.Single().Aborted, Is.True, "the request's connection was closed");
        scheduler.AdvanceTo(S(60));
        Assert.That(results.Messages, Has.Count.EqualTo(1), "nothing arrives after the timeout");
    }

    [Test]
    public void The_circuit_breaker_opens_after_failures_and_closes_after_its_break()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(503).Respond(503).Respond(200);
        using var session = http.CreateSession(scheduler);
        var pipeline = new ResiliencePipelineBuilder<ClientResponse> { TimeProvider = scheduler.AsTimeProvider() }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<ClientResponse>
            {
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = TimeSpan.FromSeconds(30),
                ShouldHandle = args => Is503(args.Outcome),
            }).Build();
        var results = new List<string>();
        void Send() => session.Get(Url).WithResilience(pipeline).Subscribe(r => { results.Add(r.Status.ToString()); r.Dispose(); }, e => results.Add(e.GetType().Name));

        Send();
        Send();
        Send();
        Assert.That(results, Is.EqualTo(new[] { "503", "503", nameof(BrokenCircuitException) }));
        Assert.That(http.Calls, Has.Count.EqualTo(2), "an open circuit sends nothing");
        scheduler.AdvanceTo(S(30));
        Send();
        Assert.That(results.Last(), Is.EqualTo("200"), "half-open after the break: the trial request goes through");
        Assert.That(http.Calls, Has.Count.EqualTo(3));
    }

    [Test]
    public void Disposing_the_subscription_cancels_polly_and_aborts_the_request()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Fail(FakeFault.Stall);
        using var session = http.CreateSession(scheduler, ClientTimeout.None);
        var cancelled = false;
        var retry = RetryOn503();
        retry.OnRetry = _ => { cancelled = true; return ValueTask.CompletedTask; };
        var pipeline = new ResiliencePipelineBuilder<ClientResponse> { TimeProvider = scheduler.AsTimeProvider() }.AddRetry(retry).Build();
        var subscription = session.Get(Url).WithResilience(pipeline).Subscribe(_ => Assert.Fail("no response expected"));
        scheduler.AdvanceTo(S(1));
        subscription.Dispose();
        Assert.That(http.Calls.Single().Aborted, Is.True);
        scheduler.AdvanceTo(S(10));
        Assert.That(http.Calls, Has.Count.EqualTo(1), "a cancelled execution is not retried");
        Assert.That(cancelled, Is.False);
    }

    [Test]
    public void An_exception_the_observer_throws_is_thrown_out_of_Subscribe_or_left_unhandled_not_swallowed()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(200).Respond(FakeResponse.Status(200).After(TimeSpan.FromSeconds(1)));
        using var session = http.CreateSession(scheduler);
        var pipeline = new ResiliencePipelineBuilder<ClientResponse> { TimeProvider = scheduler.AsTimeProvider() }.AddRetry(RetryOn503()).Build();
        var mine = new ApplicationException("the observer's bug");
        void Throw(ClientResponse r)
        {
            r.Dispose();
            throw mine;
        }

        // Inside Subscribe, as session.Get(Url).Subscribe(Throw) does.
        Assert.That(Assert.Throws<ApplicationException>(() => session.Get(Url).WithResilience(pipeline).Subscribe(Throw)), Is.SameAs(mine));

        var unhandled = new List<Exception>();
        var original = ResilienceExtensions.Unhandled;
        ResilienceExtensions.Unhandled = fault => unhandled.Add(fault.SourceException);
        try
        {
            session.Get(Url).WithResilience(pipeline).Subscribe(Throw);
            Assert.That(unhandled, Is.Empty);
            scheduler.AdvanceTo(S(1));
            Assert.That(unhandled, Is.EqualTo(new[] { mine }), "later, it is unhandled where any producer's would be");
        }
        finally
        {
            ResilienceExtensions.Unhandled = original;
        }
    }

    [Test]
    public void As_a_middleware_a_one_shot_body_is_not_sent_twice()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("PUT", Url).Respond(503).Respond(200);
        var pipeline = new ResiliencePipelineBuilder<ClientResponse> { TimeProvider = scheduler.AsTimeProvider() }.AddRetry(RetryOn503()).Build();
        using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = http.Connector,
            ConnectorOwner = false,
            Scheduler = scheduler,
            Middlewares = new[] { ResilienceExtensions.Middleware(pipeline) },
        });
        var results = scheduler.CreateObserver<int>();
        session.Put(Url, new RequestOptions { Data = "replayable" }).Select(r => r.Status).Subscribe(results);
        scheduler.AdvanceTo(S(1));
        Assert.That(results.Messages[0].Value.Value, Is.EqualTo(200), "a string body is sent again");

        http.When("PUT", Url + "/once").Respond(503).Respond(200);
        var once = scheduler.CreateObserver<int>();
        var stream = new NonSeekable("abc"u8.ToArray());
        session.Put(Url + "/once", new RequestOptions { Data = stream }).Select(r => r.Status).Subscribe(once);
        scheduler.AdvanceTo(S(2));
        Assert.That(once.Messages.Single().Value.Exception, Is.InstanceOf<InvalidOperationException>().With.Message.Contains("only once"));
        Assert.That(http.Calls.Count(c => c.Url.EndsWith("/once")), Is.EqualTo(1));
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    // A UI observer marshals to its thread and waits, while that thread disposes the subscription: the outcome must
    // not be delivered under the lock the disposal takes, or the two wait for each other for good.
    [Test]
    public void A_disposal_from_another_thread_while_the_observer_waits_in_OnNext_does_not_deadlock()
    {
        var scheduler = new TestScheduler();
        using var http = new FakeHttp();
        http.When("GET", Url).Respond(FakeResponse.Status(200).Text("ok").After(TimeSpan.FromSeconds(1))); // after Subscribe returned
        using var session = new ClientSession(new ClientSessionOptions { Connector = http.Connector, ConnectorOwner = false, Scheduler = scheduler });
        var pipeline = new ResiliencePipelineBuilder<ClientResponse> { TimeProvider = scheduler.AsTimeProvider() }.AddRetry(RetryOn503()).Build();
        IDisposable? subscription = null;
        var disposedInTime = false;
        subscription = session.Get(Url).WithResilience(pipeline).Subscribe(r =>
        {
            r.Dispose();
            disposedInTime = Task.Run(() => subscription!.Dispose()).Wait(TimeSpan.FromSeconds(10));
        });
        scheduler.Start();
        Assert.That(disposedInTime, Is.True, "the other thread's Dispose waited for the observer's OnNext, which waited for it");
    }
}
