using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;
using RxHttp.Tests.WebSockets;

namespace RxHttp.Tests.Diagnostics;

/// <summary>
/// An ActivityListener, MeterListener or propagator that throws, against Kestrel: requests and websockets go on as if
/// nobody listened, every span that started stops once, and the pool gives its connections back. Such exceptions were
/// raised on socket threads (where they ended the test host), or failed the request with the listener's error.
/// Process-wide listeners: not run alongside other tests.
/// </summary>
[TestFixture, NonParallelizable]
public class ListenerExceptionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await WsServers.StartKestrelAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    // Records every RxHttp span started and stopped, and throws from the callbacks asked to.
    private static ActivityListener ThrowingActivityListener(List<Activity> started, List<Activity> stopped, bool onStart, bool onStop)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == RxHttpInstrumentation.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = a =>
            {
                lock (started) started.Add(a);
                if (onStart) throw new InvalidOperationException("ActivityStarted");
            },
            ActivityStopped = a =>
            {
                lock (stopped) stopped.Add(a);
                if (onStop) throw new InvalidOperationException("ActivityStopped");
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [TestCase(true, false)]
    [TestCase(false, true)]
    public async Task An_activity_listener_that_throws_neither_fails_the_request_nor_keeps_its_spans_open(bool onStart, bool onStop)
    {
        var started = new List<Activity>();
        var stopped = new List<Activity>();
        using var listener = ThrowingActivityListener(started, stopped, onStart, onStop);
        using var session = new ClientSession();
        var text = await session.Get(_server.Url("redirect/1")).SelectMany(r => r.Text()).ToTask().WaitAsync(Bound);
        Assert.That(text, Is.EqualTo("done"));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Idle: 1 });
        lock (started)
        lock (stopped)
        {
            var ours = started.Where(a => a.Source.Name == RxHttpInstrumentation.Name).ToList();
            Assert.That(ours, Has.Count.EqualTo(2), "one span per hop");
            Assert.That(stopped, Is.EquivalentTo(ours), "each stopped once");
            Assert.That(ours.Select(a => a.GetTagItem("http.response.status_code")), Is.EqualTo(new object[] { 302, 200 }));
        }
        Assert.That(Activity.Current, Is.Null);
    }

    [Test]
    public async Task A_meter_listener_that_throws_neither_fails_requests_nor_upsets_the_pool()
    {
        using var listener = ThrowingMeterListener();
        var connector = new TcpConnector(new TcpConnectorOptions { Limit = 1 });
        var session = new ClientSession(new ClientSessionOptions { Connector = connector });
        // Limit 1: two of the three queue for the connection (pool waiting, time in queue, reuse), each redirected once.
        var texts = await Task.WhenAll(Enumerable.Range(0, 3)
            .Select(_ => session.Get(_server.Url("redirect/1")).SelectMany(r => r.Text()).ToTask())).WaitAsync(Bound);
        Assert.That(texts, Is.All.EqualTo("done"));
        Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get("http://127.0.0.1:1/").ToTask().WaitAsync(Bound));
        await Wait.Until(() => connector.CurrentState is { InUse: 0, Opening: 0, Idle: 1, Waiting: 0 });
        await session.DisposeAsync();
        Assert.That(connector.CurrentState.Idle, Is.EqualTo(0), "closing the idle connection recorded its end and still closed it");
    }

    [Test]
    public async Task A_meter_listener_that_throws_does_not_break_a_websocket()
    {
        using var listener = ThrowingMeterListener();
        using var session = new ClientSession();
        var ws = await session.WsConnectAsync(_server.Url("ws/echo").Replace("http://", "ws://")).WaitAsync(Bound);
        await ws.SendStr("one").ToTask().WaitAsync(Bound);
        Assert.That(await ws.ReceiveStrAsync().WaitAsync(Bound), Is.EqualTo("one"));
        await ws.Close().ToTask().WaitAsync(Bound);
        Assert.That(ws.Closed, Is.True);
        await ws.DisposeAsync();
    }

    [TestCase(true, false)]
    [TestCase(false, true)]
    public async Task An_activity_listener_that_throws_neither_fails_a_websocket_handshake_nor_keeps_its_span_open(bool onStart, bool onStop)
    {
        var started = new List<Activity>();
        var stopped = new List<Activity>();
        using var listener = ThrowingActivityListener(started, stopped, onStart, onStop);
        using var meters = ThrowingMeterListener();
        using var session = new ClientSession();
        var ws = await session.WsConnectAsync(_server.Url("ws/echo").Replace("http://", "ws://")).WaitAsync(Bound);
        lock (started)
        lock (stopped)
        {
            var ours = started.Where(a => a.Source.Name == RxHttpInstrumentation.Name && a.GetTagItem("server.port") is int p && p == _server.Port).ToList();
            Assert.That(ours, Has.Count.EqualTo(1));
            Assert.That(stopped, Is.EquivalentTo(ours), "stopped once, with the handshake");
            Assert.That(ours[0].GetTagItem("http.response.status_code"), Is.EqualTo(101));
        }
        Assert.That(Activity.Current, Is.Null);
        await ws.SendStr("one").ToTask().WaitAsync(Bound);
        Assert.That(await ws.ReceiveStrAsync().WaitAsync(Bound), Is.EqualTo("one"));
        await ws.Close().ToTask().WaitAsync(Bound);
        await ws.DisposeAsync();
    }

    [Test]
    public async Task A_propagator_that_throws_sends_the_request_without_trace_context()
    {
        var previous = DistributedContextPropagator.Current;
        DistributedContextPropagator.Current = new ThrowingPropagator();
        try
        {
            using var caller = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C).Start();
            using var session = new ClientSession();
            var headers = await SpanTests.EchoedHeaders(session, _server.Url("echo"), null).WaitAsync(Bound);
            Assert.That(headers.ContainsKey("traceparent"), Is.False);
        }
        finally
        {
            DistributedContextPropagator.Current = previous;
        }
    }

    private static MeterListener ThrowingMeterListener()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RxHttpInstrumentation.Name) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((i, _, _, _) => throw new InvalidOperationException(i.Name));
        listener.SetMeasurementEventCallback<double>((i, _, _, _) => throw new InvalidOperationException(i.Name));
        listener.Start();
        return listener;
    }

    private sealed class ThrowingPropagator : DistributedContextPropagator
    {
        public override IReadOnlyCollection<string> Fields => ["traceparent"];

        public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
        {
            setter?.Invoke(carrier, "traceparent", activity?.Id ?? "");
            throw new InvalidOperationException("propagator");
        }

        public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState) =>
            throw new NotSupportedException();

        public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) =>
            throw new NotSupportedException();
    }
}
