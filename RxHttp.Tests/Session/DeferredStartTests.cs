using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Session;

/// <summary>
/// A request subscribed while others of its pool are out starts on the thread pool, so the subscriber (an
/// operator holding its own lock, as Merge(n) does when it subscribes the next queued request) is not held by the
/// request's send; a lone request, and a request the caller awaits, start inline.
/// </summary>
[TestFixture]
public class DeferredStartTests
{
    private KestrelServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await KestrelServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    // True on the subscribing thread while its Subscribe call runs: a middleware that sees it ran inside Subscribe.
    [ThreadStatic] private static bool _inSubscribe;

    private sealed class Probe
    {
        public TaskCompletionSource<bool> RanInsideSubscribe { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> Middleware =>
            (request, next) =>
            {
                if (request.Url.Path.EndsWith("/hello", StringComparison.Ordinal)) RanInsideSubscribe.TrySetResult(_inSubscribe);
                return next(request);
            };
    }

    private static IDisposable SubscribeMarked<T>(IObservable<T> source, IObserver<T> observer)
    {
        _inSubscribe = true;
        try
        {
            return source.Subscribe(observer);
        }
        finally
        {
            _inSubscribe = false;
        }
    }

    private ClientSession Session(Probe probe) => new(_server.BaseUrl, new ClientSessionOptions { Middlewares = [probe.Middleware] });

    private static async Task<IDisposable> HoldOneRequestOut(ClientSession session)
    {
        var held = session.Get("never").Subscribe(_ => { }, _ => { });
        await Wait.Until(() => session.Connector.CurrentState.InUse == 1, what: "the held request to lease its connection");
        return held;
    }

    [Test]
    public async Task Subscribing_while_another_request_is_out_returns_before_the_request_is_sent()
    {
        var probe = new Probe();
        using var session = Session(probe);
        using var held = await HoldOneRequestOut(session);
        var text = new AsyncSubject<string>();
        using var subscription = SubscribeMarked(session.Get("hello").SelectMany(r => r.Text()), text);
        Assert.That(await probe.RanInsideSubscribe.Task, Is.False, "the request started after Subscribe returned, or on another thread");
        Assert.That(await text, Is.EqualTo(KestrelServer.Hello));
    }

    [Test]
    public async Task A_lone_request_starts_inside_Subscribe()
    {
        var probe = new Probe();
        using var session = Session(probe);
        var text = new AsyncSubject<string>();
        using var subscription = SubscribeMarked(session.Get("hello").SelectMany(r => r.Text()), text);
        Assert.That(await probe.RanInsideSubscribe.Task, Is.True, "nothing else was out: no hop to the thread pool");
        Assert.That(await text, Is.EqualTo(KestrelServer.Hello));
    }

    [Test]
    public async Task An_awaited_request_starts_inline_even_beside_others()
    {
        var probe = new Probe();
        using var session = Session(probe);
        using var held = await HoldOneRequestOut(session);
        _inSubscribe = true;
        ObservableAwaiter<string> awaiter;
        try
        {
            awaiter = session.Get("hello").SelectMany(r => r.Text()).GetAwaiter();
        }
        finally
        {
            _inSubscribe = false;
        }
        Assert.That(await probe.RanInsideSubscribe.Task, Is.True, "the awaiting caller holds no one's lock");
        await Wait.Until(() => awaiter.IsCompleted, what: "the awaited request to finish");
        Assert.That(awaiter.GetResult(), Is.EqualTo(KestrelServer.Hello));
    }

    [Test]
    public async Task A_subscription_disposed_right_away_leaves_nothing_out()
    {
        using var session = new ClientSession(_server.BaseUrl);
        using var held = await HoldOneRequestOut(session);
        for (var i = 0; i < 50; i++) session.Get("never").Subscribe(_ => { }, _ => { }).Dispose();
        held.Dispose();
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Opening: 0, Waiting: 0 }, what: "every cancelled request to let its connection go");
    }

    [Test]
    public async Task Merge_of_many_requests_delivers_every_response_and_frees_the_pool()
    {
        using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Limit = 8 }) });
        var texts = await Observable.Range(0, 200).Select(_ => session.Get("hello").SelectMany(r => r.Text())).Merge(16).ToList();
        Assert.That(texts, Has.Count.EqualTo(200).And.All.EqualTo(KestrelServer.Hello));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Waiting: 0 }, what: "the pool to be idle");
    }

    [Test]
    public async Task Switch_cancels_each_request_in_flight_and_keeps_only_the_last()
    {
        using var session = new ClientSession(_server.BaseUrl);
        var typed = new Subject<string>();
        var last = typed.Select(path => session.Get(path).SelectMany(r => r.Text())).Switch().LastAsync().ToTask();
        for (var i = 0; i < 30; i++)
        {
            typed.OnNext("never");
            await Wait.Until(() => session.Connector.CurrentState.InUse == 1, what: "the query's request to lease its connection");
        }
        typed.OnNext("hello");
        typed.OnCompleted();
        Assert.That(await last, Is.EqualTo(KestrelServer.Hello));
        await Wait.Until(() => session.Connector.CurrentState is { InUse: 0, Opening: 0 }, what: "no connection left in use");
    }

    // A request that completes inside Subscribe lets Concat subscribe the next from its OnCompleted, inside the same
    // call; a long chain of those overflowed the stack (seen in the benchmark against nginx). Nested starts on one
    // thread are bounded: past MaxInlineDepth the next request starts on the thread pool, with a fresh stack.
    [ThreadStatic] private static int _expectedLevel;

    [Test]
    public async Task Requests_started_inside_one_another_are_deferred_past_a_bound()
    {
        const int levels = ResponseObservable.MaxInlineDepth + 4;
        var inline = new bool?[levels];
        var responses = new List<Task<ClientResponse>>();
        ClientSession session = null!;
        // Each level's middleware (which runs inside its request's Subscribe when that starts inline) subscribes the
        // next level, as a synchronous completion under Concat subscribes the next request.
        Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> nest = (request, next) =>
        {
            var k = int.Parse(request.Url.Query["k=".Length..]);
            lock (inline) inline[k] = _expectedLevel == k;
            if (k + 1 < levels)
            {
                var saved = _expectedLevel;
                _expectedLevel = k + 1;
                try { lock (responses) responses.Add(session.Get($"hello?k={k + 1}").ToTask()); }
                finally { _expectedLevel = saved; }
            }
            return next(request);
        };
        using (session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { Middlewares = [nest] }))
        {
            _expectedLevel = 0;
            lock (responses) responses.Add(session.Get("hello?k=0").ToTask());
            await Wait.Until(() => { lock (responses) return responses.Count == levels; }, what: "every level to be subscribed");
            Task<ClientResponse>[] all;
            lock (responses) all = responses.ToArray();
            foreach (var r in await Task.WhenAll(all)) r.Release();
        }
        var bound = ResponseObservable.MaxInlineDepth;
        Assert.That(inline.Take(bound), Is.All.True, "up to the bound each level starts inside its parent's Subscribe");
        Assert.That(inline[bound], Is.False, "the next starts on the thread pool, with a fresh stack");
    }

    // ---- requests subscribed inside one of RxHttp's completions start on that thread once it returns ----

    private static void OnOwnThread(Action body)
    {
        // Not a pool thread: a start that runs here can only have come from the scope, never from the thread pool.
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw new AssertionException("the thread failed", failure);
    }

    [Test]
    public async Task A_request_subscribed_inside_a_completion_scope_starts_on_that_thread_when_the_scope_ends()
    {
        var starts = new List<(int Thread, bool InsideSubscribe, bool InScope)>();
        Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> probe = (request, next) =>
        {
            if (request.Url.Path.EndsWith("/hello", StringComparison.Ordinal))
                lock (starts) starts.Add((Environment.CurrentManagedThreadId, _inSubscribe, CompletionScope.Active));
            return next(request);
        };
        using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { Middlewares = [probe] });
        using var held = await HoldOneRequestOut(session);
        const int count = 20;
        var texts = new List<Task<string>>();
        var thread = 0;
        var startedWhenTheScopeEnded = 0;
        OnOwnThread(() =>
        {
            thread = Environment.CurrentManagedThreadId;
            for (var i = 0; i < count; i++)
            {
                var text = new AsyncSubject<string>();
                using (CompletionScope.Enter()) SubscribeMarked(session.Get("hello").SelectMany(r => r.Text()), text);
                lock (starts) if (starts.Count == i + 1) startedWhenTheScopeEnded++;
                texts.Add(text.ToTask());
            }
        });
        Assert.That(await Task.WhenAll(texts), Is.All.EqualTo(KestrelServer.Hello));
        Assert.That(starts, Has.Count.EqualTo(count).And.None.Matches<(int Thread, bool InsideSubscribe, bool InScope)>(s => s.InsideSubscribe));
        // The thread pool gets every start as well and may take one first; the scope's thread takes nearly all.
        Assert.That(starts.Count(s => s.Thread == thread), Is.GreaterThan(0), "requests started on the scope's own thread, as it ended");
        Assert.That(startedWhenTheScopeEnded, Is.GreaterThan(0), "the scope's end started the request before returning");
    }

    [Test]
    public async Task A_completion_that_blocks_on_the_request_it_subscribed_still_gets_its_response()
    {
        using var session = new ClientSession(_server.BaseUrl);
        using var held = await HoldOneRequestOut(session);
        string? text = null;
        OnOwnThread(() =>
        {
            using (CompletionScope.Enter())
            {
                // A synchronous wait inside an observer: the scope cannot end before the response, so the thread
                // pool has to start the request.
                using var done = new ManualResetEventSlim();
                using var subscription = session.Get("hello").SelectMany(r => r.Text()).Subscribe(t => text = t, _ => done.Set(), done.Set);
                Assert.That(done.Wait(TimeSpan.FromSeconds(30)), Is.True, "the request started although its subscriber's thread was blocked");
            }
        });
        Assert.That(text, Is.EqualTo(KestrelServer.Hello));
    }

    [Test]
    public async Task Merge_starts_the_next_request_inside_the_previous_ones_completion()
    {
        // Plain session (the direct path): the trace reports each start on its starting thread.
        using var session = new ClientSession(_server.BaseUrl, new ClientSessionOptions { Connector = new TcpConnector(new TcpConnectorOptions { Limit = 5 }) });
        // One request held out: every request is subscribed beside another, none starts inline.
        using var held = await HoldOneRequestOut(session);
        var inScope = 0;
        var starts = 0;
        using var trace = session.Trace.Where(e => e.Kind == TraceEventKind.RequestStart).Subscribe(_ =>
        {
            Interlocked.Increment(ref starts);
            if (CompletionScope.Active) Interlocked.Increment(ref inScope);
        });
        var texts = await Observable.Range(0, 100).Select(_ => session.Get("hello").SelectMany(r => r.Text())).Merge(4).ToList();
        Assert.That(texts, Has.Count.EqualTo(100).And.All.EqualTo(KestrelServer.Hello));
        Assert.That(starts, Is.EqualTo(100));
        // The first four start from the thread pool (subscribed by the caller, no completion yet); the others from a
        // completion, after Merge's OnCompleted returned, unless the thread pool took one first.
        Assert.That(inScope, Is.GreaterThan(0), "requests Merge subscribed from a completion started as that completion returned");
    }
}
