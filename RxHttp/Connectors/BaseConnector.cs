using System.Net.Sockets;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// The connection pool. <see cref="Connect(ConnectionKey)"/> publishes leases as a cold observable: subscribing takes an idle
/// connection or opens one; at the limit the subscriber waits in a FIFO queue; disposing a waiting
/// subscription leaves the queue at once. Idle connections are reused most recently used first (LIFO), so
/// the pool shrinks back under light load and the warmest socket serves the next request.
/// </summary>
public abstract partial class BaseConnector : IDisposable, IAsyncDisposable
{
    private readonly object _gate = new();
    // One bucket per key with connections acquired or idle: a lease looks its key up once, and a release (the
    // connection knows its bucket) not at all. Keyed by the record's value equality, so every hash walks the host
    // string; one lookup instead of ten per request was worth ~2% under 64 concurrent requests.
    private readonly Dictionary<ConnectionKey, HostPool> _hosts = new();
    private readonly HashSet<Connection> _leased = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly Subject<PoolState> _state = new();
    private int _acquired; // leased + opening
    private int _opening;
    private int _idleCount;
    private bool _closed;
    // Cancelled by Close: connections still being opened (DNS, connect, TLS) give up at once instead of running on
    // to their own timeout with their half-open socket, and their subscribers get the close's error.
    private readonly CancellationTokenSource _closing = new();
    private IScheduler _scheduler;
    private readonly bool _keepsNoIdle; // KeepaliveTimeout zero: a released connection is closed rather than idled

    /// <summary>Creates the pool.</summary>
    protected BaseConnector(ConnectorOptions? options = null)
    {
        options ??= new ConnectorOptions();
        if (options.Limit < 0) throw new ArgumentOutOfRangeException(nameof(options), "Limit cannot be negative.");
        if (options.LimitPerHost < 0) throw new ArgumentOutOfRangeException(nameof(options), "LimitPerHost cannot be negative.");
        if (options.ResponsePollWindow < TimeSpan.Zero || options.ResponsePollWindow > TimeSpan.FromSeconds(1))
            throw new ArgumentOutOfRangeException(nameof(options), "ResponsePollWindow must be between zero and one second.");
        if (options.KeepaliveTimeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), options.KeepaliveTimeout, "KeepaliveTimeout cannot be negative (zero: keep no connection idle; null: no limit).");
        if (options.PooledConnectionLifetime <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), options.PooledConnectionLifetime, "PooledConnectionLifetime must be positive (null: no limit).");
        if (options.ForceClose && options.KeepaliveTimeoutSet)
            throw new ArgumentException("KeepaliveTimeout cannot be set together with ForceClose.", nameof(options));
        Options = options;
        _keepsNoIdle = options.KeepaliveTimeout == TimeSpan.Zero;
        _scheduler = options.Scheduler ?? DefaultScheduler.Instance;
        ResponsePollTicks = (long)(options.ResponsePollWindow.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
    }

    /// <summary>The settings this connector was made with.</summary>
    public ConnectorOptions Options { get; }

    /// <summary>Most connections in use or opening; 0 means no limit.</summary>
    public int Limit => Options.Limit;

    /// <summary>Most connections in use or opening per key; 0 means no limit.</summary>
    public int LimitPerHost => Options.LimitPerHost;

    /// <summary>Whether connections are closed instead of pooled.</summary>
    public bool ForceClose => Options.ForceClose;

    /// <summary>The scheduler driving keep-alive expiry and connect timers.</summary>
    public IScheduler Scheduler => _scheduler;

    /// <summary>True after <see cref="Close"/>.</summary>
    public bool Closed { get { lock (_gate) return _closed; } }

    /// <summary>The pool's state: the current snapshot on subscribe, then every change. Handlers must not block.</summary>
    public IObservable<PoolState> State => Observable.Create<PoolState>(observer =>
    {
        // Under the pool lock, so no change slips between the first snapshot and the subscription.
        lock (_gate)
        {
            observer.OnNext(Snapshot());
            if (_closed)
            {
                observer.OnCompleted();
                return Disposable.Empty;
            }
            return _state.Subscribe(observer);
        }
    });

    /// <summary>The latest pool snapshot.</summary>
    public PoolState CurrentState
    {
        get
        {
            lock (_gate) return Snapshot();
        }
    }

    // A session that owns a connector made without a scheduler lends it its own clock.
    internal void AdoptScheduler(IScheduler scheduler)
    {
        if (Options.Scheduler is null) _scheduler = scheduler;
    }

    /// <summary>
    /// A cold observable of one lease for <paramref name="key"/>: an idle connection, a new one, or (at the
    /// limit) the next one released, in FIFO order. Disposing before the lease arrives cancels the wait or the
    /// opening; the lease then belongs to the subscriber, who must release or close it.
    /// </summary>
    public IObservable<Connection> Connect(ConnectionKey key) => Connect(key, null);

    /// <summary>
    /// As <see cref="Connect(ConnectionKey)"/>, with the request's timeouts: a connector that opens sockets
    /// enforces <see cref="ClientTimeout.SockConnect"/> on each connect attempt (on <see cref="Scheduler"/>),
    /// failing it with <see cref="ConnectionTimeoutError"/>. <see cref="ClientTimeout.Connect"/> (waiting for a
    /// slot plus opening) is the caller's to apply around this observable.
    /// </summary>
    public IObservable<Connection> Connect(ConnectionKey key, ClientTimeout? timeout) => Connect(key, timeout, null);

    // As Connect(key, timeout), for a request with a clock of its own (RequestOptions.Scheduler): the connects it
    // opens time out on that clock (null: the connector's).
    internal IObservable<Connection> Connect(ConnectionKey key, ClientTimeout? timeout, IScheduler? scheduler)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new ConnectObservable(this, key, timeout, scheduler);
    }

    // The clock of the connect being opened: the request's when it has one. Async-local, as ConnectorTrace.Current,
    // so CreateConnectionAsync keeps its signature (subclasses override it) and still times the right request.
    private static readonly AsyncLocal<IScheduler?> OpeningScheduler = new();

    /// <summary>The clock for the timers of the connect being opened (SockConnect, Happy Eyeballs): the request's, else <see cref="Scheduler"/>.</summary>
    internal IScheduler ConnectScheduler => OpeningScheduler.Value ?? _scheduler;

    /// <summary>Opens a new connection for <paramref name="key"/> (DNS, connect, TLS, proxy tunnel).</summary>
    protected internal abstract Task<Connection> CreateConnectionAsync(ConnectionKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Opens a new connection for <paramref name="key"/> under the request's <paramref name="timeout"/>
    /// (null: none). The default ignores the timeout and calls <see cref="CreateConnectionAsync(ConnectionKey, CancellationToken)"/>.
    /// </summary>
    protected internal virtual Task<Connection> CreateConnectionAsync(ConnectionKey key, ClientTimeout? timeout, CancellationToken cancellationToken) =>
        CreateConnectionAsync(key, cancellationToken);

    // The proxy every request through this connector uses unless it names its own (ProxyConnector).
    internal virtual ProxySettings? DefaultProxy => null;

    /// <summary>Wraps an opened stream as a lease owned by this pool.</summary>
    protected Connection NewConnection(ConnectionKey key, Socket? socket, Stream stream) => new(this, key, socket, stream);

    /// <summary>Closes idle and in-use connections and fails every waiter. Later connects fail at once.</summary>
    public void Close()
    {
        List<Connection> idle, leased;
        List<Waiter> waiters;
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            idle = _hosts.Values.SelectMany(b => b.Idle).ToList();
            leased = _leased.ToList();
            foreach (var b in _hosts.Values.ToList())
            {
                b.Idle.Clear();
                DropIfEmpty(b);
            }
            _idleCount = 0;
            waiters = _waiters.ToList();
            _waiters.Clear();
            AssertInvariants();
        }
        var closed = ConnectorClosed();
        _closing.Cancel();
        foreach (var w in waiters) w.Fail(closed);
        // A leased connection's read in flight fails with why (Abort), not with a generic disconnect.
        foreach (var c in leased) c.Abort(closed);
        foreach (var c in idle) c.Close();
        Publish();
        _state.OnCompleted();
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
