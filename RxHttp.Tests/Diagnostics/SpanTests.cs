using System.Diagnostics;
using System.Reactive.Linq;
using System.Text.Json;
using NUnit.Framework;
using OpenTelemetry;
using OpenTelemetry.Trace;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Diagnostics;

/// <summary>
/// Request spans through the OpenTelemetry SDK (in-memory exporter) against Kestrel: what System.Net.Http's
/// DiagnosticsHandler would report for the same exchanges. Each test runs under a root span of its own and reads
/// only the spans of its trace.
/// </summary>
[TestFixture]
public class SpanTests : KestrelFixture
{
    private static readonly ActivitySource TestSource = new("RxHttp.Tests.Spans");
    private List<Activity> _exported = null!;
    private TracerProvider _provider = null!;

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

    private List<Activity> SpansOf(Activity root)
    {
        _provider.ForceFlush();
        lock (_exported)
            return _exported.Where(a => a.Source.Name == RxHttpInstrumentation.Name && a.TraceId == root.TraceId).OrderBy(a => a.StartTimeUtc).ToList();
    }

    private static object? Tag(Activity a, string name) => a.TagObjects.FirstOrDefault(t => t.Key == name).Value;

    [Test]
    public async Task A_200_is_one_client_span_named_by_its_method_with_the_conventions_tags()
    {
        using var session = new ClientSession();
        using (var root = TestSource.StartActivity("test")!)
        {
            (await session.Get(Server.Url("hello"))).Release();
            var span = SpansOf(root).Single();
            Assert.That(span.Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(span.DisplayName, Is.EqualTo("GET"));
            Assert.That(span.OperationName, Is.EqualTo("RxHttp.HttpRequestOut"));
            Assert.That(span.ParentSpanId, Is.EqualTo(root.SpanId));
            Assert.That(Tag(span, "http.request.method"), Is.EqualTo("GET"));
            Assert.That(Tag(span, "server.address"), Is.EqualTo("127.0.0.1"));
            Assert.That(Tag(span, "server.port"), Is.EqualTo(Server.Port));
            Assert.That(Tag(span, "url.full"), Is.EqualTo(Server.Url("hello")));
            Assert.That(Tag(span, "http.response.status_code"), Is.EqualTo(200));
            Assert.That(Tag(span, "network.protocol.version"), Is.EqualTo("1.1"));
            Assert.That(Tag(span, "error.type"), Is.Null);
            Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Unset));
        }
        Assert.That(Activity.Current, Is.Null, "the request's span is not left current on the caller's thread");
    }

    [Test]
    public async Task A_404_is_an_error_span_whose_error_type_is_the_status()
    {
        using var session = new ClientSession();
        using var root = TestSource.StartActivity("test")!;
        (await session.Get(Server.Url("status/404"))).Release();
        var span = SpansOf(root).Single();
        Assert.That(Tag(span, "http.response.status_code"), Is.EqualTo(404));
        Assert.That(Tag(span, "error.type"), Is.EqualTo("404"));
        Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Error));
    }

    [Test]
    public void A_refused_connection_is_an_error_span_of_type_connection_error()
    {
        using var session = new ClientSession();
        using var root = TestSource.StartActivity("test")!;
        Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get("http://127.0.0.1:1/"));
        var span = SpansOf(root).Single();
        Assert.That(Tag(span, "error.type"), Is.EqualTo("connection_error"));
        Assert.That(Tag(span, "http.response.status_code"), Is.Null);
        Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Error));
    }

    [Test]
    public async Task Each_redirect_hop_is_a_span_of_its_own_under_the_callers_span()
    {
        using var session = new ClientSession();
        using var root = TestSource.StartActivity("test")!;
        var response = await session.Get(Server.Url("redirect/2"));
        Assert.That(await response.Text(), Is.EqualTo("done"));
        var spans = SpansOf(root);
        Assert.That(spans.Select(s => Tag(s, "url.full")), Is.EqualTo(new[] { Server.Url("redirect/2"), Server.Url("redirect/1"), Server.Url("redirect/0") }));
        Assert.That(spans.Select(s => Tag(s, "http.response.status_code")), Is.EqualTo(new object[] { 302, 302, 200 }));
        Assert.That(spans.Select(s => s.ParentSpanId), Is.All.EqualTo(root.SpanId), "siblings, as HttpClient's per-SendAsync spans");
        Assert.That(spans.Select(s => s.SpanId).Distinct().Count(), Is.EqualTo(3));
        Assert.That(spans, Is.All.Matches<Activity>(s => s.Status == ActivityStatusCode.Unset));
    }

    [Test]
    public async Task The_server_receives_the_hop_spans_traceparent_unless_the_caller_set_one()
    {
        using var session = new ClientSession();
        using var root = TestSource.StartActivity("test")!;
        root.TraceStateString = "rxhttp=1";
        var echoed = await EchoedHeaders(session, Server.Url("echo"), null);
        var span = SpansOf(root).Single();
        Assert.That(echoed["traceparent"], Is.EqualTo(span.Id).And.Contains($"-{span.SpanId}-"));
        Assert.That(echoed["tracestate"], Is.EqualTo("rxhttp=1"));

        const string own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var kept = await EchoedHeaders(session, Server.Url("echo"), new RequestOptions { Headers = [new("traceparent", own)] });
        Assert.That(kept["traceparent"], Is.EqualTo(own));
    }

    [Test]
    public async Task Credentials_and_the_query_are_redacted_in_url_full()
    {
        using var session = new ClientSession();
        using var root = TestSource.StartActivity("test")!;
        (await session.Get($"http://user:secret@127.0.0.1:{Server.Port}/echo?token=abc&x=1")).Release();
        var span = SpansOf(root).Single();
        Assert.That(Tag(span, "url.full"), Is.EqualTo($"http://127.0.0.1:{Server.Port}/echo?*"));
    }

    [Test]
    public async Task An_unknown_method_is_named_HTTP_and_tagged_OTHER()
    {
        using var session = new ClientSession();
        using var root = TestSource.StartActivity("test")!;
        (await session.Request("CUSTOM", Server.Url("echo"))).Release();
        var span = SpansOf(root).Single();
        Assert.That(span.DisplayName, Is.EqualTo("HTTP"));
        Assert.That(Tag(span, "http.request.method"), Is.EqualTo("_OTHER"));
        Assert.That(Tag(span, "http.request.method_original"), Is.EqualTo("CUSTOM"));
    }

    [Test]
    public async Task A_disposed_request_ends_its_span_as_a_cancellation_error()
    {
        using var session = new ClientSession();
        using var root = TestSource.StartActivity("test")!;
        var subscription = session.Get(Server.Url("never")).Subscribe(_ => { }, _ => { });
        Assert.That(Activity.Current, Is.SameAs(root), "the hop's span is current only while the hop is subscribed");
        await Wait.Until(() => session.Connector.CurrentState.InUse == 1);
        subscription.Dispose();
        var span = SpansOf(root).Single();
        Assert.That(span.IsStopped, Is.True);
        // As .NET 10's HttpClient reports a cancelled SendAsync: an error span, typed as the duration metric is.
        Assert.That(Tag(span, "error.type"), Is.EqualTo("System.OperationCanceledException"));
        Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Error));
    }

    [Test]
    public async Task With_middlewares_each_hop_is_still_one_span_around_them()
    {
        var seen = new List<string?>();
        using var session = new ClientSession(new ClientSessionOptions
        {
            Middlewares = [(request, next) =>
            {
                lock (seen) seen.Add(Activity.Current?.DisplayName);
                return next(request);
            }],
        });
        using var root = TestSource.StartActivity("test")!;
        var pending = session.Get(Server.Url("redirect/1")).Replay();
        using var connected = pending.Connect();
        Assert.That(Activity.Current, Is.SameAs(root), "the hop's span is current only while the hop is subscribed");
        (await pending).Release();
        var spans = SpansOf(root);
        Assert.That(spans.Select(s => Tag(s, "http.response.status_code")), Is.EqualTo(new object[] { 302, 200 }));
        Assert.That(spans.Select(s => s.ParentSpanId), Is.All.EqualTo(root.SpanId));
        lock (seen) Assert.That(seen, Is.EqualTo(new[] { "GET", "GET" }), "middlewares run inside the hop's span");
    }

    internal static async Task<Dictionary<string, string>> EchoedHeaders(ClientSession session, string echoUrl, RequestOptions? options)
    {
        var response = await session.Get(echoUrl, options);
        using var doc = JsonDocument.Parse(await response.Text());
        return doc.RootElement.GetProperty("headers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.OrdinalIgnoreCase);
    }
}
