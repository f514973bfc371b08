using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Json;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>Task and IAsyncEnumerable entry points: the same engine, and cancellation closes the connection.</summary>
public class ClientSessionTasksTests
{
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync(app =>
    {
        app.MapGet("/dto", () => Results.Json(new Dto("task", 4)));
        app.MapGet("/lines", () => Results.Text("one\r\ntwo\nthree", "text/plain"));
    });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Text_bytes_json_and_responses_come_back_as_tasks()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        Assert.That(await session.GetStringAsync("hello"), Is.EqualTo(KestrelServer.Hello));
        Assert.That((await session.GetBytesAsync("bytes/1000")).Length, Is.EqualTo(1000));
        Assert.That(await session.GetJsonAsync("dto", TestJsonContext.Default.Dto), Is.EqualTo(new Dto("task", 4)));
        Assert.That(await session.GetJsonAsync<Dto>("dto"), Is.EqualTo(new Dto("task", 4)));
        using var response = await session.SendAsync("POST", "echo", new() { Data = "x" });
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(await session.GetStringAsync("hello"), Is.EqualTo(KestrelServer.Hello), "the connection went back to the pool");
    }

    [Test]
    public async Task Errors_are_the_same_typed_errors()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        var e = Assert.ThrowsAsync<ClientResponseError>(() => session.GetStringAsync("status/404", new() { RaiseForStatus = true }));
        Assert.That(e!.Status, Is.EqualTo(404));
    }

    [Test]
    public async Task Cancelling_a_task_closes_its_connection()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        using var cts = new CancellationTokenSource();
        var before = _server.OpenConnections;
        var call = session.GetStringAsync("never", cancellationToken: cts.Token);
        await Wait.Until(() => _server.OpenConnections == before + 1, what: "the request to reach the server");
        cts.Cancel();
        Assert.That(async () => await call, Throws.InstanceOf<OperationCanceledException>());
        await Wait.Until(() => _server.OpenConnections == before, what: "the server to see the connection closed");
        Assert.That((await session.Connector.State.FirstAsync()).InUse, Is.Zero);
    }

    [Test]
    public async Task Chunks_stream_and_leaving_early_closes_the_connection()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        long total = 0;
        await foreach (var chunk in session.GetChunksAsync("bytes/300000", chunkSize: 16 * 1024))
        {
            Assert.That(chunk.Length, Is.LessThanOrEqualTo(16 * 1024));
            total += chunk.Length;
        }
        Assert.That(total, Is.EqualTo(300000));

        await using var fresh = new ClientSession(_server.BaseUrl);
        var before = _server.OpenConnections;
        await foreach (var _ in fresh.GetChunksAsync("endless")) break;
        var state = await fresh.Connector.State.FirstAsync();
        Assert.That((state.InUse, state.Idle), Is.EqualTo((0, 0)), "closed, not pooled: the body was not read to the end");
        await Wait.Until(() => _server.OpenConnections == before, what: "the server to see the endless response's connection closed");
    }

    [Test]
    public async Task Lines_stream_as_text()
    {
        await using var session = new ClientSession(_server.BaseUrl);
        var lines = new List<string>();
        await foreach (var line in session.GetLinesAsync("lines")) lines.Add(line);
        Assert.That(lines, Is.EqualTo(new[] { "one", "two", "three" }));
    }
}
