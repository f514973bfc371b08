using System.Diagnostics;
using System.Net.WebSockets;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using OpenTelemetry;
using OpenTelemetry.Trace;
using RxHttp.Tests.Support;
using RxHttp.Tests.WebSockets;

namespace RxHttp.Tests.Diagnostics;

/// <summary>
/// A websocket handshake traced as the GET it is, against Kestrel: one client span per hop (OpenTelemetry's
/// in-memory exporter), its traceparent on the wire, the request metrics and the trace stream in aiohttp's order
/// (ws_connect goes through request(); HttpClient's ClientWebSocket through DiagnosticsHandler). The handshake
/// reported none of these: no span, no traceparent, no metrics, no trace event.
/// </summary>
[TestFixture]
public class WebSocketHandshakeTracingTests
{
    private static readonly ActivitySource TestSource = new("RxHttp.Tests.WsHandshake");
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private KestrelServer _server = null!;
    private List<Activity> _exported = null!;
    private TracerProvider _provider = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.UseWebSockets();
        // Answers with the traceparent it was sent, then echoes.
        app.Map("/wsh/echo", async ctx =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest) { ctx.Response.StatusCode = 400; return; }
            var traceparent = ctx.Request.Headers["traceparent"].ToString();
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            await ws.SendAsync(Encoding.UTF8.GetBytes(traceparent), WebSocketMessageType.Text, true, default);
            await WsServers.EchoAsync(ws);
        });
        app.Map("/wsh/redirect", ctx =>
        {
            ctx.Response.StatusCode = 307;
            ctx.Response.Headers.Location = "/wsh/echo";
            return Task.CompletedTask;
        });
        app.Map("/wsh/reject", ctx =>
        {
            ctx.Response.StatusCode = 403;
            return Task.CompletedTask;
        });
        // Reads the handshake and never answers it.
        app.Map("/wsh/hang", async ctx =>
        {
            try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); }
            catch (OperationCanceledException) { }
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [SetUp]
    public void StartProvider()
    {
        _exported = new List<Activity>();
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(RxHttpInstrumentation.Name, TestSource.Name)
            .AddInMemoryExporter(_exported)
            .Build();
    }

    [TearDown]
    public void StopProvider() => _provider.Dispose();

    private string Ws(string path) => _server.Url(path).Replace("http://", "ws://");

    private List<Activity> SpansOf(Activity root)
    {
        _provider.ForceFlush();
        lock (_exported)
            return _exported.Where(a => a.Source.Name == RxHttpInstrumentation.Name && a.TraceId == root.TraceId).OrderBy(a => a.StartTimeUtc).ToList();
    }

    private static object? Tag(Activity a, string name) => a.TagObjects.FirstOrDefault(t => t.Key == name).Value;

    private static List<TraceEvent> Record(ClientSession session, out IDisposable subscription)
    {
        var events = new List<TraceEvent>();
        subscription = session.Trace.Subscribe(e =>
        {
            lock (events) events.Add(e);
        });
        return events;
    }

    // The request-level kinds, without the connection ones.
    private static TraceEventKind[] RequestKinds(List<TraceEvent> events)
    {
        lock (events)
            return events.Select(e => e.Kind).Where(k => k is TraceEventKind.RequestStart or TraceEventKind.RequestHeadersSent or TraceEventKind.RequestRedirect
                or TraceEventKind.RequestEnd or TraceEventKind.RequestException).ToArray();
    }

    [Test]
    public async Task A_handshake_is_one_GET_span_ended_at_the_101_whose_traceparent_the_server_receives()
    {
        using var recorder = new MeterRecorder(_server.Port);
        using var session = new ClientSession();
        var events = Record(session, out var subscription);
        using var traced = subscription;
        using var root = TestSource.StartActivity("test")!;
        var ws = await session.WsConnectAsync(Ws("wsh/echo")).WaitAsync(Bound);
        // Exported once stopped: the span ended with the handshake, while the websocket is open.
        var span = SpansOf(root).Single();
        Assert.That(ws.Closed, Is.False);
        Assert.That(await ws.ReceiveStrAsync().WaitAsync(Bound), Is.EqualTo(span.Id));
        Assert.That(span.Kind, Is.EqualTo(ActivityKind.Client));
        Assert.That(span.DisplayName, Is.EqualTo("GET"));
        Assert.That(span.ParentSpanId, Is.EqualTo(root.SpanId));
        Assert.That(Tag(span, "http.request.method"), Is.EqualTo("GET"));
        Assert.That(Tag(span, "server.address"), Is.EqualTo("127.0.0.1"));
        Assert.That(Tag(span, "server.port"), Is.EqualTo(_server.Port));
        Assert.That(Tag(span, "url.full"), Is.EqualTo(Ws("wsh/echo")));
        Assert.That(Tag(span, "http.response.status_code"), Is.EqualTo(101));
        Assert.That(Tag(span, "network.protocol.version"), Is.EqualTo("1.1"));
        Assert.That(Tag(span, "error.type"), Is.Null);
        Assert.That(Activity.Current, Is.SameAs(root), "the handshake's span is not left current");

        var duration = recorder.Of("http.client.request.duration").Single();
        Assert.That(duration.Tag("http.response.status_code"), Is.EqualTo(101));
        Assert.That(duration.Tag("url.scheme"), Is.EqualTo("ws"));
        Assert.That(duration.Has("error.type"), Is.False);
        Assert.That(recorder.Of("http.client.active_requests").Select(m => m.Value), Is.EqualTo(new[] { 1.0, -1.0 }));
        Assert.That(recorder.Of("http.client.request.time_in_queue"), Has.Count.EqualTo(1), "the wait for its new connection");

        Assert.That(RequestKinds(events), Is.EqualTo(new[] { TraceEventKind.RequestStart, TraceEventKind.RequestHeadersSent, TraceEventKind.RequestEnd }));
        lock (events)
        {
            Assert.That(events.Select(e => e.Kind), Does.Contain(TraceEventKind.ConnectionCreateEnd));
            Assert.That(events.Select(e => e.RequestId).Distinct().Count(), Is.EqualTo(1));
            Assert.That(events.Single(e => e.Kind == TraceEventKind.RequestHeadersSent).Headers!.Get("traceparent"), Is.EqualTo(span.Id));
            Assert.That(events.Single(e => e.Kind == TraceEventKind.RequestEnd).Response!.Status, Is.EqualTo(101));
        }
        await ws.Close().ToTask().WaitAsync(Bound);
        await ws.DisposeAsync();
    }

    [Test]
    public async Task A_callers_traceparent_is_kept()
    {
        const string own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        using var session = new ClientSession();
        using var root = TestSource.StartActivity("test")!;
        var ws = await session.WsConnectAsync(Ws("wsh/echo"), new WsConnectOptions { Headers = [new("traceparent", own)] }).WaitAsync(Bound);
        Assert.That(await ws.ReceiveStrAsync().WaitAsync(Bound), Is.EqualTo(own));
        Assert.That(SpansOf(root), Has.Count.EqualTo(1));
        await ws.DisposeAsync();
    }

    [Test]
    public async Task A_redirected_handshake_is_a_span_per_hop_and_reports_the_redirect()
    {
        using var recorder = new MeterRecorder(_server.Port);
        using var session = new ClientSession();
        var events = Record(session, out var subscription);
        using var traced = subscription;
        using var root = TestSource.StartActivity("test")!;
        var ws = await session.WsConnectAsync(Ws("wsh/redirect")).WaitAsync(Bound);
        var spans = SpansOf(root);
        Assert.That(spans.Select(s => Tag(s, "http.response.status_code")), Is.EqualTo(new object[] { 307, 101 }));
        Assert.That(spans.Select(s => s.ParentSpanId), Is.All.EqualTo(root.SpanId), "hops are siblings");
        Assert.That(spans.Select(s => Tag(s, "url.full")), Is.EqualTo(new[] { Ws("wsh/redirect"), Ws("wsh/echo") }));
        Assert.That(await ws.ReceiveStrAsync().WaitAsync(Bound), Is.EqualTo(spans[1].Id), "each hop carries its own span's context");

        Assert.That(RequestKinds(events), Is.EqualTo(new[]
        {
            TraceEventKind.RequestStart, TraceEventKind.RequestHeadersSent, TraceEventKind.RequestRedirect,
            TraceEventKind.RequestHeadersSent, TraceEventKind.RequestEnd,
        }));
        lock (events)
        {
            var redirect = events.Single(e => e.Kind == TraceEventKind.RequestRedirect);
            Assert.That(redirect.Response!.Status, Is.EqualTo(307));
            Assert.That(redirect.Url.ToString(), Is.EqualTo(Ws("wsh/redirect")));
            Assert.That(events.Last().Url.ToString(), Is.EqualTo(Ws("wsh/echo")));
        }
        Assert.That(recorder.Of("http.client.request.duration").Select(m => m.Tag("http.response.status_code")), Is.EqualTo(new object[] { 307, 101 }));
        Assert.That(recorder.Sum("http.client.active_requests"), Is.EqualTo(0));
        await ws.DisposeAsync();
    }

    [Test]
    public async Task A_refused_handshake_is_an_error_span_and_ends_the_request_with_its_answer_as_aiohttp_does()
    {
        using var recorder = new MeterRecorder(_server.Port);
        using var session = new ClientSession();
        var events = Record(session, out var subscription);
        using var traced = subscription;
        using var root = TestSource.StartActivity("test")!;
        var error = Assert.ThrowsAsync<WsServerHandshakeError>(async () => await session.WsConnectAsync(Ws("wsh/reject")).WaitAsync(Bound));
        Assert.That(error!.Status, Is.EqualTo(403));
        var span = SpansOf(root).Single();
        Assert.That(Tag(span, "http.response.status_code"), Is.EqualTo(403));
        Assert.That(Tag(span, "error.type"), Is.EqualTo("403"));
        Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Error));
        Assert.That(recorder.Of("http.client.request.duration").Single().Tag("error.type"), Is.EqualTo("403"));
        Assert.That(recorder.Sum("http.client.active_requests"), Is.EqualTo(0));
        // aiohttp's request() returned the 403 (on_request_end) before ws_connect raised.
        Assert.That(RequestKinds(events), Is.EqualTo(new[] { TraceEventKind.RequestStart, TraceEventKind.RequestHeadersSent, TraceEventKind.RequestEnd }));
        lock (events) Assert.That(events.Last().Response!.Status, Is.EqualTo(403));
    }

    [Test]
    public async Task A_handshake_disposed_before_its_answer_ends_its_span_as_cancelled()
    {
        using var recorder = new MeterRecorder(_server.Port);
        using var session = new ClientSession();
        var events = Record(session, out var subscription);
        using var traced = subscription;
        using var root = TestSource.StartActivity("test")!;
        Exception? failed = null;
        var connecting = session.WsConnect(Ws("wsh/hang")).Subscribe(_ => { }, e => failed = e);
        await Wait.Until(() => RequestKinds(events).Contains(TraceEventKind.RequestHeadersSent), what: "the handshake sent");
        Assert.That(SpansOf(root), Is.Empty, "the span runs while the answer is awaited");
        connecting.Dispose();
        await Wait.Until(() => SpansOf(root).Count == 1, what: "the span ended");
        var span = SpansOf(root).Single();
        Assert.That(Tag(span, "error.type"), Is.EqualTo(typeof(OperationCanceledException).FullName));
        Assert.That(Tag(span, "http.response.status_code"), Is.Null);
        Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Error));
        await Wait.Until(() => RequestKinds(events).Contains(TraceEventKind.RequestException), what: "the trace's end");
        lock (events) Assert.That(events.Last().Exception, Is.InstanceOf<OperationCanceledException>());
        Assert.That(recorder.Sum("http.client.active_requests"), Is.EqualTo(0));
        Assert.That(recorder.Of("http.client.request.duration").Single().Tag("error.type"), Is.EqualTo(typeof(OperationCanceledException).FullName));
        Assert.That(failed, Is.Null, "a disposed subscription hears nothing");
    }

    [Test]
    public async Task A_handshake_past_the_total_timeout_reports_the_timeout_and_ends_its_span_as_cancelled()
    {
        using var recorder = new MeterRecorder(_server.Port);
        using var session = new ClientSession(new ClientSessionOptions { Timeout = new ClientTimeout { Total = TimeSpan.FromMilliseconds(200) } });
        var events = Record(session, out var subscription);
        using var traced = subscription;
        using var root = TestSource.StartActivity("test")!;
        Assert.ThrowsAsync<TotalTimeoutError>(async () => await session.WsConnectAsync(Ws("wsh/hang")).WaitAsync(Bound));
        var span = SpansOf(root).Single();
        Assert.That(Tag(span, "error.type"), Is.EqualTo(typeof(OperationCanceledException).FullName), "as a request's hop cut by its deadline");
        Assert.That(RequestKinds(events), Is.EqualTo(new[] { TraceEventKind.RequestStart, TraceEventKind.RequestHeadersSent, TraceEventKind.RequestException }));
        lock (events) Assert.That(events.Last().Exception, Is.InstanceOf<TotalTimeoutError>());
        Assert.That(recorder.Sum("http.client.active_requests"), Is.EqualTo(0));
    }

    [Test]
    public async Task A_refused_connection_is_a_request_exception_and_an_error_span()
    {
        using var session = new ClientSession();
        var events = Record(session, out var subscription);
        using var traced = subscription;
        using var root = TestSource.StartActivity("test")!;
        Assert.ThrowsAsync<ClientConnectorError>(async () => await session.WsConnectAsync("ws://127.0.0.1:1/").WaitAsync(Bound));
        var span = SpansOf(root).Single();
        Assert.That(Tag(span, "error.type"), Is.EqualTo("connection_error"));
        Assert.That(RequestKinds(events), Is.EqualTo(new[] { TraceEventKind.RequestStart, TraceEventKind.RequestException }));
    }
}
