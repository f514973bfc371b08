using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using NUnit.Framework;
using RxHttp.Testing;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Transport;

/// <summary>
/// Waits longer than the ~49.7 days a <see cref="System.Threading.Timer"/> accepts, on <see cref="DefaultScheduler"/>
/// (which throws for them): a server's Retry-After under a lifted MaxDelay, and "never" (TimeSpan.MaxValue) as the
/// Expect100Timeout or WsClose. Each must wait, as the ClientTimeout deadlines already do, not fail with an untyped
/// ArgumentOutOfRangeException.
/// </summary>
public class LongWaitTests
{
    private const string Api = "https://api.example.test";

    [Test]
    public void A_retry_after_of_years_under_an_unbounded_max_delay_waits_rather_than_failing_the_request()
    {
        using var http = new FakeHttp();
        http.When("GET", Api + "/busy").Respond(FakeResponse.Status(503).Header("Retry-After", "9999999999"));
        using var session = new ClientSession(new ClientSessionOptions
        {
            Connector = http.Connector,
            ConnectorOwner = false,
            Scheduler = DefaultScheduler.Instance,
            Middlewares = [RetryOperator.Middleware(new RetryOptions { MaxDelay = TimeSpan.MaxValue })],
        });
        var seen = new List<string>();

        // The scripted 503 comes inside Subscribe, and the retry's wait is armed there too.
        var call = session.Get(Api + "/busy").Subscribe(r => seen.Add(r.Status.ToString()), e => seen.Add("error " + e.GetType().Name));

        Assert.That(seen, Is.Empty, "waiting for the Retry-After, not failed while arming it");
        Assert.That(http.Calls, Has.Count.EqualTo(1));
        call.Dispose();
    }

    [Test]
    public async Task An_expect_100_timeout_of_TimeSpan_MaxValue_waits_for_the_100_rather_than_failing_the_request()
    {
        using var http = new FakeHttp();
        http.When("POST", Api + "/upload").Respond(200, "stored");
        using var session = http.CreateSession(DefaultScheduler.Instance);

        var text = await session.Post(Api + "/upload", new RequestOptions { Data = "payload", Expect100 = true, Expect100Timeout = TimeSpan.MaxValue })
            .SelectMany(r => r.Text()).ToTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(text, Is.EqualTo("stored"));
        Assert.That(http.Calls.Single().Header("Expect"), Is.EqualTo("100-continue"));
        Assert.That(System.Text.Encoding.UTF8.GetString(http.Calls.Single().Body), Is.EqualTo("payload"));
    }

    [Test]
    public async Task A_ws_close_timeout_of_TimeSpan_MaxValue_closes_cleanly_rather_than_throwing()
    {
        using var http = new FakeHttp();
        http.WhenWebSocket("wss://ws.example.test/feed");
        using var session = http.CreateSession(DefaultScheduler.Instance);
        var socket = await session.WsConnectAsync("wss://ws.example.test/feed",
            new WsConnectOptions { Timeout = WsTimeout.Default with { WsClose = TimeSpan.MaxValue } }).WaitAsync(TimeSpan.FromSeconds(30));

        await socket.Close().ToTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(socket.Closed, Is.True);
        Assert.That(socket.CloseCode, Is.EqualTo((int)WsCloseCode.Ok), "the server's answer to our CLOSE");
    }

    [Test]
    public async Task A_reconnect_backoff_of_sixty_days_waits_rather_than_throwing()
    {
        // What the default scheduler throws for the wait is swallowed on the way (the loss is reported from a close
        // callback), so the clock records it: without the wheel the websocket simply never came back.
        var clock = new RecordingScheduler(DefaultScheduler.Instance);
        using var http = new FakeHttp();
        http.WhenWebSocket("wss://ws.example.test/feed").Close(TimeSpan.Zero, 1001);
        using var session = http.CreateSession(clock);
        var ws = session.WsReconnecting("wss://ws.example.test/feed", reconnect: new ReconnectOptions
        {
            InitialDelay = TimeSpan.FromDays(60),
            MaxDelay = TimeSpan.MaxValue,
            Jitter = 0,
        });
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var disconnected = ws.Disconnected.Subscribe(_ => lost.TrySetResult());
        ws.Start();

        await lost.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The wait is armed right after the loss is reported, on the same thread.
        await Wait.Until(() => clock.Longest >= TimeSpan.FromDays(29) || !clock.Errors.IsEmpty, what: "the backoff to be armed");
        Assert.That(clock.Errors, Is.Empty, "the 60-day backoff was handed to the scheduler whole");
        Assert.That(http.Calls, Has.Count.EqualTo(1), "no reconnect before the backoff");
        ws.Dispose();
    }

    /// <summary>Passes everything to <paramref name="inner"/>, keeping what it threw and the longest relative wait asked.</summary>
    private sealed class RecordingScheduler(IScheduler inner) : IScheduler
    {
        private long _longest;

        public System.Collections.Concurrent.ConcurrentQueue<Exception> Errors { get; } = new();

        public TimeSpan Longest => TimeSpan.FromTicks(Interlocked.Read(ref _longest));

        public DateTimeOffset Now => inner.Now;

        public IDisposable Schedule<TState>(TState state, Func<IScheduler, TState, IDisposable> action) => Run(() => inner.Schedule(state, action));

        public IDisposable Schedule<TState>(TState state, TimeSpan dueTime, Func<IScheduler, TState, IDisposable> action)
        {
            long seen;
            while (dueTime.Ticks > (seen = Interlocked.Read(ref _longest)) && Interlocked.CompareExchange(ref _longest, dueTime.Ticks, seen) != seen)
            {
            }
            return Run(() => inner.Schedule(state, dueTime, action));
        }

        public IDisposable Schedule<TState>(TState state, DateTimeOffset dueTime, Func<IScheduler, TState, IDisposable> action) =>
            Schedule(state, dueTime - inner.Now, action);

        private IDisposable Run(Func<IDisposable> schedule)
        {
            try
            {
                return schedule();
            }
            catch (Exception e)
            {
                Errors.Enqueue(e);
                throw;
            }
        }
    }
}
