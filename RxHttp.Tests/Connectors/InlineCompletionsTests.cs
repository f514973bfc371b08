using System.Net.WebSockets;
using System.Reactive.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;
using RxHttp.Tests.WebSockets;

namespace RxHttp.Tests.Connectors;

/// <summary>
/// <see cref="ConnectorOptions.UnsafeInlineCompletions"/>: while other requests of the pool are out, a response is
/// delivered on the runtime's socket thread; alone, without the option, or on a websocket, it is dispatched to the
/// thread pool. Which thread delivered is what each test checks. The server answers 200 ms after reading the
/// request, so the response meets a read already handed to the socket engine (a response already there when the
/// read starts is read at once, on the thread that asked, whatever the option). Polling is off, since it would
/// pick the lone responses up on the test's thread.
/// </summary>
[TestFixture]
public class InlineCompletionsTests
{
    // The runtime's name for its epoll thread (System.Net.Sockets, SocketAsyncEngine).
    private const string SocketThread = ".NET Sockets";

    private static ClientSession Session(bool inline) => new(new ClientSessionOptions
    {
        Connector = new TcpConnector(new TcpConnectorOptions { UnsafeInlineCompletions = inline, ResponsePollWindow = TimeSpan.Zero }),
    });

    // The held response keeps its body on its connection (not taken with the head), so its lease stays out.
    private static readonly RequestOptions Held = new() { StreamResponse = true };

    private static RawServer LateServer() => new(async c =>
    {
        while (await c.ReadRequestAsync() is { } request)
        {
            if (request.StartsWith("GET /late", StringComparison.Ordinal)) await Task.Delay(200);
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });

    // The thread that runs the response's OnNext; the body is read, so the connection goes back to the pool.
    private static Task<Thread> DeliveredOn(ClientSession session, string url)
    {
        var done = new TaskCompletionSource<Thread>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Get(url).Subscribe(r =>
        {
            var thread = Thread.CurrentThread;
            r.Text().Subscribe(_ => done.TrySetResult(thread), e => done.TrySetException(e));
        }, e => done.TrySetException(e));
        return done.Task;
    }

    [Test]
    public async Task With_other_requests_out_an_opted_in_pool_delivers_on_the_socket_thread()
    {
        await using var server = LateServer();
        await using var session = Session(inline: true);
        var held = await session.Get(server.Url("/held"), Held); // a second lease, out until released
        var thread = await DeliveredOn(session, server.Url("/late"));
        Assert.That(thread.IsThreadPoolThread, Is.False);
        Assert.That(thread.Name, Is.EqualTo(SocketThread));
        held.Release();
        Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(2).And.Property("InUse").EqualTo(0));
    }

    [Test]
    public async Task A_lone_request_of_an_opted_in_pool_is_dispatched_to_the_thread_pool()
    {
        await using var server = LateServer();
        await using var session = Session(inline: true);
        // Two connections in the pool, each inline once; then a request alone takes one of them back.
        var held = await session.Get(server.Url("/held"), Held);
        Assert.That((await DeliveredOn(session, server.Url("/late"))).Name, Is.EqualTo(SocketThread));
        held.Release();
        var thread = await DeliveredOn(session, server.Url("/late"));
        Assert.That(thread.IsThreadPoolThread, Is.True, "alone, the connection went back to dispatched completions");
        Assert.That(server.ConnectionCount, Is.EqualTo(2));
    }

    [TestCase(10, 0, false, true)]
    [TestCase(10, 3, false, true)]
    [TestCase(10, 0, true, false)]
    [TestCase(11, 0, false, false)]
    [TestCase(12, 0, false, false)]
    [TestCase(9, 0, false, false)]
    public void The_internal_member_is_reached_only_on_the_verified_runtime_outside_windows(int major, int minor, bool windows, bool expected)
        => Assert.That(RxHttp.Transport.InlineCompletions.IsVerifiedRuntime(new Version(major, minor, 1), windows), Is.EqualTo(expected));

    [Test]
    public void This_test_run_exercises_the_internal_member()
        => Assert.That(RxHttp.Transport.InlineCompletions.UseInternal, Is.EqualTo(Environment.Version.Major == RxHttp.Transport.InlineCompletions.VerifiedRuntimeMajor && !OperatingSystem.IsWindows()));

    [Test]
    public async Task On_another_runtime_the_option_falls_back_to_the_public_dispatched_completions()
    {
        var was = RxHttp.Transport.InlineCompletions.UseInternal;
        RxHttp.Transport.InlineCompletions.UseInternal = false;
        try
        {
            await using var server = LateServer();
            await using var session = Session(inline: true);
            using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            Assert.That(RxHttp.Transport.InlineCompletions.TrySet(probe, true), Is.False);
            var held = await session.Get(server.Url("/held"), Held);
            var thread = await DeliveredOn(session, server.Url("/late"));
            Assert.That(thread.IsThreadPoolThread, Is.True, "what the runtime does by itself");
            held.Release();
            Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(2).And.Property("InUse").EqualTo(0));
        }
        finally
        {
            RxHttp.Transport.InlineCompletions.UseInternal = was;
        }
    }

    [Test]
    public async Task Without_the_option_a_busy_pool_is_dispatched_to_the_thread_pool()
    {
        await using var server = LateServer();
        await using var session = Session(inline: false);
        var held = await session.Get(server.Url("/held"), Held);
        var thread = await DeliveredOn(session, server.Url("/late"));
        Assert.That(thread.IsThreadPoolThread, Is.True);
        held.Release();
    }

    [Test]
    public async Task A_websocket_on_a_connection_that_was_inline_delivers_its_messages_on_the_thread_pool()
    {
        await using var server = await KestrelServer.StartAsync(app =>
        {
            app.UseWebSockets();
            app.MapGet("/late", async () =>
            {
                await Task.Delay(200);
                return "ok";
            });
            app.Map("/ws/echo", async (HttpContext ctx) =>
            {
                using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
                await WsServers.EchoAsync(ws);
            });
        });
        await using var session = Session(inline: true);
        var held = await session.Get(server.Url("hello"), Held);
        Assert.That((await DeliveredOn(session, server.Url("late"))).Name, Is.EqualTo(SocketThread), "the connection the handshake reuses was inline");
        Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(1));

        // The pool is still busy (held), and the handshake takes the idle connection that was just inline.
        await using var ws = await session.WsConnectAsync(server.Url("ws/echo").Replace("http://", "ws://"));
        Assert.That(session.Connector.CurrentState, Has.Property("Idle").EqualTo(0), "the websocket took the idle connection");
        var thread = new TaskCompletionSource<Thread>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = ws.Messages.Subscribe(_ => thread.TrySetResult(Thread.CurrentThread));
        await Task.Delay(200); // the receive loop's read is pending when the echo comes back
        await ws.SendStr("ping");
        var t = await thread.Task;
        Assert.That(t.IsThreadPoolThread, Is.True);
        held.Release();
    }
}
