using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Session;

/// <summary>
/// The verbs' <see cref="ResponseObservable"/>: its own <c>await</c> and <c>SelectMany</c> must behave exactly like
/// Rx's general operators (which the same code gets through an <see cref="IObservable{T}"/> reference).
/// </summary>
[TestFixture]
public class ResponseObservableTests : KestrelFixture
{
    private static readonly Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> Swallow =
        (request, next) => next(request).Do(r => r.Release()).IgnoreElements();

    [Test]
    public async Task Fused_and_Rx_SelectMany_give_the_same_text()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var fused = await session.Get("hello").SelectMany(r => r.Text());
        IObservable<ClientResponse> plain = session.Get("hello");
        var rx = await plain.SelectMany(r => r.Text());
        Assert.That(fused, Is.EqualTo(KestrelServer.Hello));
        Assert.That(rx, Is.EqualTo(fused));
    }

    [Test]
    public void Awaiting_a_request_that_yields_no_response_throws_like_Rx()
    {
        using var session = new ClientSession(Server.BaseUrl, new ClientSessionOptions { Middlewares = [Swallow] });
        var fused = Assert.ThrowsAsync<InvalidOperationException>(async () => await session.Get("hello"));
        IObservable<ClientResponse> plain = session.Get("hello");
        var rx = Assert.ThrowsAsync<InvalidOperationException>(async () => await plain);
        Assert.That(fused!.Message, Is.EqualTo(rx!.Message));
        Assert.ThrowsAsync<InvalidOperationException>(async () => await session.Get("hello").SelectMany(r => r.Text()));
    }

    [Test]
    public async Task A_projection_of_no_response_is_empty()
    {
        using var session = new ClientSession(Server.BaseUrl, new ClientSessionOptions { Middlewares = [Swallow] });
        var items = await session.Get("hello").SelectMany(r => r.Text()).ToList();
        Assert.That(items, Is.Empty);
    }

    [Test]
    public void Errors_pass_through_await_and_SelectMany_with_their_type()
    {
        using var session = new ClientSession();
        var url = $"http://127.0.0.1:{FreePort()}/";
        Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get(url));
        Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get(url).SelectMany(r => r.Text()));
    }

    [Test]
    public async Task A_throwing_selector_fails_the_result_and_releases_the_response()
    {
        using var buffer = ReadBufferSize.Release();
        using var session = new ClientSession(Server.BaseUrl);
        var error = Assert.ThrowsAsync<FormatException>(async () => await session.Get("hello").SelectMany<string>(_ => throw new FormatException("boom")));
        Assert.That(error!.Message, Is.EqualTo("boom"));
        await Wait.Until(() => session.Connector.CurrentState.InUse == 0, what: "the response's connection to be given back");
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(1), "released with its body drained, so it stays pooled");
    }

    [Test]
    public async Task Disposing_a_projection_before_the_response_cancels_the_request()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var values = new List<string>();
        Exception? error = null;
        var subscription = session.Get("never").SelectMany(r => r.Text()).Subscribe(values.Add, e => error = e);
        await Wait.Until(() => session.Connector.CurrentState.InUse == 1, what: "the request to be in flight");
        subscription.Dispose();
        await Wait.Until(() => session.Connector.CurrentState.Open == 0, what: "the cancelled request's connection to close");
        Assert.That(values, Is.Empty);
        Assert.That(error, Is.Null, "a disposed subscription hears nothing");
    }

    [Test]
    public async Task Each_subscription_sends_the_request_again()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var request = session.Get("echo").SelectMany(r => r.Text());
        var first = await request;
        var second = await request;
        Assert.That(second, Is.EqualTo(first));
        Assert.That(await request.Count(), Is.EqualTo(1), "one response per subscription, then completion");
    }

    [Test]
    public async Task A_middleware_that_emits_two_responses_delivers_the_first_and_leaks_neither()
    {
        Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> twice =
            (request, next) => next(request).Concat(next(request));
        using var session = new ClientSession(Server.BaseUrl, new ClientSessionOptions { Middlewares = [twice] });
        var responses = await session.Get("hello").ToList();
        Assert.That(responses, Has.Count.EqualTo(1));
        Assert.That(await responses[0].Text(), Is.EqualTo(KestrelServer.Hello));
        await Wait.Until(() => session.Connector.CurrentState.InUse == 0, what: "every connection back in the pool");
    }

    [Test]
    public void The_continuation_runs_on_the_captured_synchronization_context()
    {
        using var session = new ClientSession(Server.BaseUrl);
        var context = new CountingContext();
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            var awaiter = session.Get("never").SelectMany(r => r.Text()).GetAwaiter();
            var ran = new ManualResetEventSlim();
            awaiter.UnsafeOnCompleted(ran.Set);
            session.Close();
            Assert.That(ran.Wait(TimeSpan.FromSeconds(10)), Is.True, "closing the session ends the request");
            Assert.That(context.Posts, Is.EqualTo(1), "the continuation went through the context");
            Assert.That(() => awaiter.GetResult(), Throws.InstanceOf<ClientError>());
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    [Test]
    public void Blocking_on_the_awaiter_under_a_UI_context_does_not_wait_for_that_context()
    {
        // A UI thread's context runs posts only when its loop pumps, which it cannot while blocked in GetResult (as
        // Rx's awaiter, whose GetResult waits without the context; sync over async on a UI thread is the app's call).
        using var session = new ClientSession(Server.BaseUrl);
        string? text = null;
        Exception? error = null;
        var ui = new Thread(() =>
        {
            SynchronizationContext.SetSynchronizationContext(new NeverPumpedContext());
            try
            {
                var awaiter = session.Get("chunked/3").SelectMany(r => r.Text()).GetAwaiter();
                text = awaiter.GetResult();
            }
            catch (Exception e)
            {
                error = e;
            }
        }) { IsBackground = true };
        ui.Start();
        Assert.That(ui.Join(TimeSpan.FromSeconds(20)), Is.True, "GetResult returned on a thread whose context is not pumped");
        Assert.That(error, Is.Null);
        Assert.That(text, Is.EqualTo("chunk0;chunk1;chunk2;"));
    }

    private sealed class NeverPumpedContext : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) { }
    }

    private sealed class CountingContext : SynchronizationContext
    {
        public int Posts;

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref Posts);
            ThreadPool.QueueUserWorkItem(_ => d(state));
        }
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
