using System.Reactive.Linq;
using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// An exception the subscriber of a streamed body throws is the subscriber's: it is never taken for the body's
/// failure and dropped. Inside Subscribe it comes out of Subscribe; later it goes where the runtime sends an
/// exception thrown on the thread pool (here caught through the internal hook), as one thrown by a response's
/// observer does; in both cases the connection is closed.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ObserverExceptionTests
{
    private KestrelServer _server = null!;
    private readonly TaskCompletionSource _lineGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cutGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _bodyGates = new();

    private TaskCompletionSource BodyGate(string id) => _bodyGates.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        // The head alone, then the body only once the test holds its subscription: what follows happens after
        // Subscribe returned.
        app.MapGet("/late-line", async (HttpContext c) =>
        {
            await c.Response.StartAsync();
            await c.Response.Body.FlushAsync();
            await _lineGate.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await c.Response.WriteAsync("one\n");
        });
        app.MapGet("/late-cut", async (HttpContext c) =>
        {
            await c.Response.StartAsync();
            await c.Response.Body.FlushAsync();
            await _cutGate.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await c.Response.WriteAsync("partial line");
            await c.Response.Body.FlushAsync();
            c.Abort();
        });
        // A JSON body of a known length, whose bytes come only once the test opens its gate.
        app.MapGet("/late-json/{id}", async (HttpContext c, string id) =>
        {
            c.Response.ContentType = "application/json";
            c.Response.ContentLength = 2;
            await c.Response.StartAsync();
            await c.Response.Body.FlushAsync();
            await BodyGate(id).Task.WaitAsync(TimeSpan.FromSeconds(30));
            await c.Response.WriteAsync("{}");
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();


    [Test]
    public async Task Thrown_inside_Subscribe_it_comes_out_of_Subscribe_and_the_connection_is_closed()
    {
        using var session = new ClientSession();
        var response = await session.Get(_server.Url("/hello"));   // a small body: it came with the head
        var e = Assert.Throws<FormatException>(() => response.Lines().Subscribe(_ => throw new FormatException("mine")));
        Assert.That(e!.Message, Is.EqualTo("mine"));
        Assert.That(session.Connector.CurrentState, Has.Property("InUse").EqualTo(0));
    }

    [Test]
    public async Task Thrown_after_Subscribe_returned_it_reaches_the_thread_pool_not_the_observer()
    {
        using var session = new ClientSession();
        var errors = 0;
        var e = await ObserverFaultCapture.Surfaced(async () =>
        {
            var response = await session.Get(_server.Url("/late-line"));
            response.Lines().Subscribe(_ => throw new FormatException("mine"), _ => errors++);
            _lineGate.TrySetResult();
        });
        Assert.That((e.GetType(), e.Message), Is.EqualTo((typeof(FormatException), "mine")));
        Assert.That(errors, Is.Zero, "the observer that threw is not told of its own exception");
        await Wait.Until(() => session.Connector.CurrentState.Open == 0, what: "the body's connection to be closed");
    }

    [Test]
    public async Task A_failing_body_without_an_OnError_surfaces_as_Rx_does()
    {
        using var session = new ClientSession();
        var e = await ObserverFaultCapture.Surfaced(async () =>
        {
            var response = await session.Get(_server.Url("/late-cut"));
            response.Lines().Subscribe(_ => { });   // Rx's default OnError throws the error
            _cutGate.TrySetResult();
        });
        Assert.That(e, Is.InstanceOf<ClientPayloadError>());
    }

    [TestCase("Text")]
    [TestCase("Read")]
    [TestCase("Json")]
    public async Task A_buffered_read_s_observer_that_throws_after_Subscribe_returned_reaches_the_thread_pool(string reader)
    {
        using var session = new ClientSession();
        var errors = 0;
        var e = await ObserverFaultCapture.Surfaced(async () =>
        {
            var response = await session.Get(_server.Url("/late-json/" + reader), new() { StreamResponse = true });
            IObservable<object> read = reader switch
            {
                "Text" => response.Text().Select(object (t) => t),
                "Read" => response.Read().Select(object (b) => b),
                _ => response.Json<System.Text.Json.JsonElement>().Select(object (j) => j),
            };
            read.Subscribe(_ => throw new FormatException("mine"), _ => errors++);
            BodyGate(reader).TrySetResult();
        });
        Assert.That((e.GetType(), e.Message), Is.EqualTo((typeof(FormatException), "mine")), "left in the read's task, it vanished");
        Assert.That(errors, Is.Zero, "the observer that threw is not told of its own exception");
    }
}
