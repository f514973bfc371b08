using System.Diagnostics;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Diagnostics;

/// <summary>Without a listener on RxHttp's source nor a current span, a request makes no Activity and sends no trace context.</summary>
[TestFixture]
public class NoListenerTests : KestrelFixture
{
    [Test]
    public async Task Without_a_listener_or_a_current_span_no_activity_is_made_and_no_traceparent_sent()
    {
        // Activities made with "new Activity()" report to listeners of the unnamed source; RxHttp's own source is
        // not listened to here, so neither kind of span may appear.
        var started = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name.Length == 0,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = a => { lock (started) started.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);
        Assert.That(Activity.Current, Is.Null);
        using var session = new ClientSession();
        var headers = await SpanTests.EchoedHeaders(session, Server.Url("echo"), null);
        Assert.That(headers.ContainsKey("traceparent"), Is.False);
        lock (started) Assert.That(started.Where(a => a.OperationName == RxHttpInstrumentation.RequestActivityName), Is.Empty);
    }

    [Test]
    public async Task A_current_span_without_listeners_is_propagated_through_a_span_of_the_requests_own()
    {
        // HttpClient's behaviour: nobody samples its spans, yet the caller's trace continues at the server.
        using var parent = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C).Start();
        using var session = new ClientSession();
        var headers = await SpanTests.EchoedHeaders(session, Server.Url("echo"), null);
        var sent = ActivityContext.Parse(headers["traceparent"], null);
        Assert.That(sent.TraceId, Is.EqualTo(parent.TraceId));
        Assert.That(sent.SpanId, Is.Not.EqualTo(parent.SpanId), "a span of the request's own, child of the caller's");
        Assert.That(Activity.Current, Is.SameAs(parent));
    }
}
