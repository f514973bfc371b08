using System.Collections.Concurrent;
using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// Server-sent events over real sockets: a Kestrel stream whose events arrive while it is still open, an
/// EventSource that resumes from its Last-Event-ID across connections the server ends, and a raw server dribbling
/// CR-ended lines one byte at a time.
/// </summary>
[TestFixture]
public class EventStreamTests
{
    private KestrelServer _server = null!;
    private readonly TaskCompletionSource _firstSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string?> _resumedFrom = new();
    private readonly TaskCompletionSource _oneSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.MapGet("/gated", async (HttpContext c) =>
        {
            c.Response.ContentType = "text/event-stream";
            await c.Response.WriteAsync("event: first\ndata: one\n\n");
            await c.Response.Body.FlushAsync();
            // The second event only once the client has seen the first: it cannot have come from a buffered body.
            await _firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await c.Response.WriteAsync(": keep-alive\n\ndata: two\r\n\r\n");
        });
        app.MapGet("/numbers", async (HttpContext c) =>
        {
            var last = c.Request.Headers["Last-Event-ID"].FirstOrDefault();
            _resumedFrom.Enqueue(last);
            var next = int.Parse(last ?? "0") + 1;
            c.Response.ContentType = "text/event-stream";
            // Two events a connection, then the server ends the stream: the client reconnects at once (retry 0).
            await c.Response.WriteAsync($"retry: 0\nid: {next}\ndata: {next}\n\nid: {next + 1}\ndata: {next + 1}\n\n");
        });
        app.MapGet("/aborting", async (HttpContext c) =>
        {
            var last = c.Request.Headers["Last-Event-ID"].FirstOrDefault();
            c.Response.ContentType = "text/event-stream";
            if (last is null)
            {
                // The first stream breaks off mid-event: the connection is reset, the chunked body cut short. Only
                // once the client has the first event: a reset discards what the client's kernel had not yet
                // delivered, which would turn this into a request that never got an answer.
                await c.Response.WriteAsync("retry: 0\nid: 1\ndata: one\n\ndata: lost");
                await c.Response.Body.FlushAsync();
                await _oneSeen.Task.WaitAsync(TimeSpan.FromSeconds(30));
                c.Abort();
                return;
            }
            await c.Response.WriteAsync($"data: resumed after {last}\n\n");
        });
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Events_arrive_while_the_stream_is_still_open()
    {
        using var session = new ClientSession();
        var events = await session.Get(_server.Url("/gated"))
            .SelectMany(r => r.Events())
            .Do(e => { if (e.Data == "one") _firstSeen.TrySetResult(); })
            .ToList();
        Assert.That(events, Is.EqualTo(new[] { new ServerSentEvent("first", "one"), new ServerSentEvent("message", "two") }));
        Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(1).And.Property("InUse").EqualTo(0), "read to its end, the stream's connection went back to the pool");
    }

    [Test]
    public async Task EventSource_resumes_from_the_last_event_id_across_streams_the_server_ends()
    {
        using var session = new ClientSession();
        var ids = await session.EventSource(_server.Url("/numbers")).Take(5).Select(e => (e.Id, e.Data)).ToList();
        Assert.That(ids, Is.EqualTo(new[] { ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5") }));
        Assert.That(_resumedFrom.Take(3), Is.EqualTo(new[] { null, "2", "4" }));
    }

    [Test]
    public async Task EventSource_reconnects_after_the_server_breaks_the_connection_mid_event()
    {
        using var session = new ClientSession();
        var events = await session.EventSource(_server.Url("/aborting"))
            .Do(e => { if (e.Data == "one") _oneSeen.TrySetResult(); })
            .Take(2).Select(e => e.Data).ToList();
        Assert.That(events, Is.EqualTo(new[] { "one", "resumed after 1" }), "the event cut off was dropped");
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0 }, what: "the second stream's connection to be released");
    }

    [Test]
    public async Task Lines_ended_by_CR_alone_dribbled_one_byte_at_a_time()
    {
        const string body = "\uFEFFid: 9\rdata: a\rdata: b\r\rdata: c\r\n\r\n";
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        await using var server = RawServer.Respond(
            $"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {bytes.Length}\r\n\r\n" + System.Text.Encoding.Latin1.GetString(bytes),
            dribble: true);
        using var session = new ClientSession();
        var events = await session.Get(server.Url()).SelectMany(r => r.Events()).ToList();
        Assert.That(events, Is.EqualTo(new[] { new ServerSentEvent("message", "a\nb", "9"), new ServerSentEvent("message", "c", "9") }));
    }
}
