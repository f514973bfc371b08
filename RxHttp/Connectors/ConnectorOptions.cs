using System.Reactive.Concurrency;

namespace RxHttp;

/// <summary>Settings shared by every connector (aiohttp's BaseConnector arguments).</summary>
public class ConnectorOptions
{
    /// <summary>Most connections in use or being opened at once; 0 means no limit. Default 100.</summary>
    public int Limit { get; init; } = 100;

    /// <summary>Most connections in use or being opened per pool key; 0 means no limit. Default 0.</summary>
    public int LimitPerHost { get; init; }

    /// <summary>
    /// How long an idle connection is kept for reuse (default 15 s). A server's <c>Keep-Alive: timeout=N</c>
    /// shortens it for that connection, and <c>timeout=0</c> closes it after its response. Zero keeps no connection idle
    /// (one released with a request of its key waiting still goes to that request); negative is an
    /// <see cref="ArgumentOutOfRangeException"/>. Null keeps idle connections until the server closes them.
    /// Setting it together with <see cref="ForceClose"/> is an <see cref="ArgumentException"/>.
    /// </summary>
    public TimeSpan? KeepaliveTimeout
    {
        get => _keepalive;
        init
        {
            _keepalive = value;
            KeepaliveTimeoutSet = true;
        }
    }

    private readonly TimeSpan? _keepalive = TimeSpan.FromSeconds(15);

    // aiohttp rejects force_close together with an explicit keepalive_timeout, so "explicit" must be known.
    internal bool KeepaliveTimeoutSet { get; private init; }

    /// <summary>
    /// How long a connection may be reused after it opened (HttpClient's <c>PooledConnectionLifetime</c>): one older
    /// than this is closed when its response is done instead of going back to the pool, and an idle one as it reaches
    /// it, timed on <see cref="Scheduler"/>. Set it in a long-lived session so new connections follow DNS changes and
    /// a load balancer's new members. Null (default): no limit; it must be positive.
    /// </summary>
    public TimeSpan? PooledConnectionLifetime { get; init; }

    /// <summary>Close every connection after its response instead of pooling it.</summary>
    public bool ForceClose { get; init; }

    /// <summary>
    /// Keep-alive expiries at or above this are rounded up to the next whole second of the scheduler's clock
    /// (see <see cref="Ceiling"/>), so idle connections released within one second expire together. Default 5 s.
    /// </summary>
    public TimeSpan TimeoutCeilThreshold { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock for keep-alive expiry and connect timers. Null: the session's, else <see cref="DefaultScheduler.Instance"/>.</summary>
    public IScheduler? Scheduler { get; init; }

    /// <summary>
    /// How long a request that runs alone (no other lease of this pool out) may wait for its response by polling
    /// the socket on its own thread, when the server has lately answered within that time (a moving average). On
    /// loopback this takes the epoll thread and a thread-pool dispatch out of each round trip, about 15% of it. Such
    /// a response arrives on the thread that subscribed, possibly before <c>Subscribe</c> returns; on TLS the poll
    /// waits for the records and the stream then reads them on that thread. On a plain socket the receive low-water
    /// mark is raised meanwhile (Linux), so the response wakes neither the socket engine nor the thread pool; a read
    /// that must wait lowers it first. Concurrent requests are never polled, and slower servers only every 16th
    /// request, to time their answer again. Default 64 µs; <see cref="TimeSpan.Zero"/>
    /// turns it off. It bounds a busy wait measured on the wall clock, not a timer, so it ignores the scheduler.
    /// </summary>
    public TimeSpan ResponsePollWindow { get; init; } = TimeSpan.FromMicroseconds(64);

    /// <summary>
    /// Unsafe, off by default. When true, while more than one request of this pool is out, its connections' socket
    /// completions run on the runtime's socket I/O thread instead of being dispatched to the thread pool, and so
    /// does everything that runs synchronously after them: RxHttp's parser, <b>your observers</b> (a response's
    /// <c>OnNext</c>, body chunks) and the continuations of an <c>await</c> on them. Under many concurrent requests
    /// this saves the thread-pool dispatch of each response: about 1.2–1.3 × the requests per second on loopback.
    /// In exchange, an observer that blocks or runs long stalls the I/O of every socket in the process (on
    /// a 2-core machine there is one such thread): put <c>ObserveOn</c> before such work, and never block on another
    /// request there. A request that runs alone keeps the dispatch (and <see cref="ResponsePollWindow"/>), since
    /// inline completions made lone round trips slower; websocket connections never use them. Linux and macOS only
    /// (the runtime's epoll and kqueue engine); elsewhere it has no effect. It is the per-connector form of the
    /// runtime's process-wide <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> (and of Kestrel's
    /// <c>UnsafePreferInlineScheduling</c>), which, when set, this option leaves in force.
    /// </summary>
    public bool UnsafeInlineCompletions { get; init; }
}
