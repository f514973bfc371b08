using System.Net.Sockets;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using RxHttp.Transport;

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
    /// shortens it for that connection. Null keeps idle connections until the server closes them.
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
    /// waits for the records and the stream then reads them on that thread. Slower servers and concurrent requests
    /// are never polled. Default 64 µs; <see cref="TimeSpan.Zero"/>
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

/// <summary>
/// The connection pool. <see cref="Connect(ConnectionKey)"/> publishes leases as a cold observable: subscribing takes an idle
/// connection or opens one; at the limit the subscriber waits in a FIFO queue; disposing a waiting
/// subscription leaves the queue at once. Idle connections are reused most recently used first (LIFO), so
/// the pool shrinks back under light load and the warmest socket serves the next request.
/// </summary>
public abstract class BaseConnector : IDisposable, IAsyncDisposable
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
    private IScheduler _scheduler;

    /// <summary>Creates the pool.</summary>
    protected BaseConnector(ConnectorOptions? options = null)
    {
        options ??= new ConnectorOptions();
        if (options.Limit < 0) throw new ArgumentOutOfRangeException(nameof(options), "Limit cannot be negative.");
        if (options.LimitPerHost < 0) throw new ArgumentOutOfRangeException(nameof(options), "LimitPerHost cannot be negative.");
        if (options.ResponsePollWindow < TimeSpan.Zero || options.ResponsePollWindow > TimeSpan.FromSeconds(1))
            throw new ArgumentOutOfRangeException(nameof(options), "ResponsePollWindow must be between zero and one second.");
        if (options.ForceClose && options.KeepaliveTimeoutSet)
            throw new ArgumentException("KeepaliveTimeout cannot be set together with ForceClose.", nameof(options));
        Options = options;
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

    // Cold: each subscription is one ConnectOperation (no closure, delegate or wrapper observer per request).
    private sealed class ConnectObservable(BaseConnector pool, ConnectionKey key, ClientTimeout? timeout, IScheduler? scheduler) : IObservable<Connection>
    {
        public IDisposable Subscribe(IObserver<Connection> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            var op = new ConnectOperation(pool, key, timeout, scheduler, observer);
            op.Start();
            return op;
        }
    }

    /// <summary>
    /// The lease <see cref="Connect(ConnectionKey, ClientTimeout?)"/> would hand out at once when an idle connection
    /// for <paramref name="key"/> is free and nobody waits ahead; null when it would have to wait or open one. A
    /// keep-alive client takes this path on nearly every request, and it needs no observable, operation or observer.
    /// </summary>
    internal Connection? TryLeaseIdle(ConnectionKey key)
    {
        Connection? idle;
        List<Connection>? stale = null;
        bool busy;
        HostPool? bucket;
        lock (_gate)
        {
            if (_closed || !_hosts.TryGetValue(key, out bucket) || bucket.Idle.Count == 0 || !HasCapacity(bucket) || MustQueueBehind(key)) return null;
            busy = _leased.Count > 0;
            AddAcquired(bucket, 1);
            idle = TakeIdle(bucket, ref stale);
            if (idle is not null) _leased.Add(idle);
            else Unacquire(bucket);
        }
        if (stale is not null) foreach (var s in stale) s.CloseCore();
        if (idle is not null)
        {
            var open = false;
            // Measured on loopback: alone, a request is latency-bound and a Poll is free, while a read left pending
            // across the send makes the round trip ~10% slower (it comes from the socket engine's thread-pool
            // completions: inline, the read-ahead wins). Beside others, CPU is what limits, and the read-ahead saves
            // that syscall without slowing anything.
            idle = ReplaceIfStale(bucket, idle, ref open, readAhead: busy);
            if (idle is not null) idle.LeasedAlone = !busy;
            if (open)
            {
                // Every idle one was stale: give the slot back and let the caller take the opening path.
                lock (_gate)
                {
                    _opening--;
                    Unacquire(bucket);
                }
                WakeWaiters();
            }
        }
        if (idle is not null && idle.IsReused) ConnectorTrace.Emit(ConnectorTrace.Current.Value, ConnectorTraceKind.Reuse);
        Publish();
        return idle;
    }

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
        }
        var closed = new ClientConnectionError("Connector is closed.");
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

    // ---- pool bookkeeping (all under _gate) ----

    /// <summary>A pool key's share of the pool: its idle connections (most recent last) and its leases plus openings.</summary>
    internal sealed class HostPool(ConnectionKey key)
    {
        public ConnectionKey Key { get; } = key;
        public List<Connection> Idle { get; } = new();
        public int Acquired;
    }

    private HostPool? Find(ConnectionKey key) => _hosts.GetValueOrDefault(key);

    /// <summary>How many keys the pool keeps a bucket for (tests: buckets must not outlive their connections).</summary>
    internal int BucketCount
    {
        get { lock (_gate) return _hosts.Count; }
    }

    private HostPool BucketFor(ConnectionKey key)
    {
        ref var b = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_hosts, key, out _);
        return b ??= new HostPool(key);
    }

    // A key with nothing acquired and nothing idle leaves the dictionary, so a client of many hosts keeps no
    // bucket per host it once used. No connection refers to a dropped bucket: its leases and idle ones kept it.
    private void DropIfEmpty(HostPool b)
    {
        if (b.Acquired == 0 && b.Idle.Count == 0 && _hosts.TryGetValue(b.Key, out var current) && ReferenceEquals(current, b))
            _hosts.Remove(b.Key);
    }

    private bool HasCapacity(HostPool? b) =>
        (Limit == 0 || _acquired < Limit) && (LimitPerHost == 0 || (b?.Acquired ?? 0) < LimitPerHost);

    // FIFO: a newcomer queues behind a waiter for its own key, or behind one that is about to be woken. Waiters
    // held back only by their own per-host limit do not block other hosts.
    private bool MustQueueBehind(ConnectionKey key)
    {
        foreach (var w in _waiters)
            if (w.Key == key || HasCapacity(Find(w.Key))) return true;
        return false;
    }

    private void AddAcquired(HostPool b, int delta)
    {
        _acquired += delta;
        b.Acquired += delta;
    }

    private void Unacquire(HostPool b)
    {
        AddAcquired(b, -1);
        DropIfEmpty(b);
    }

    // Stale connections found on the way go to a list created only when there is one.
    private Connection? TakeIdle(HostPool b, ref List<Connection>? stale)
    {
        var list = b.Idle;
        while (list.Count > 0)
        {
            var c = list[^1];
            list.RemoveAt(list.Count - 1);
            _idleCount--;
            c.IdleTimer?.Dispose();
            c.IdleTimer = null;
            if (!c.TryReacquire()) continue; // closed while idle
            c.LeasedAlone = false;
            if (c.BufferedCount > 0) // the socket check is a syscall: made outside the lock (ReplaceIfStale)
            {
                (stale ??= new List<Connection>()).Add(c);
                continue;
            }
            return c;
        }
        return null;
    }

    private long _readAheads;
    private long _polledResponses;

    /// <summary>
    /// <see cref="ConnectorOptions.ResponsePollWindow"/> in Stopwatch ticks (see Connection.PollForResponse); tests
    /// widen it past the option's one-second bound, so that a stalled test machine still takes the path they test.
    /// </summary>
    internal long ResponsePollTicks { get; set; }

    /// <summary>True when another request of this pool is out (leased or opening) besides the caller's: read without the lock, as a hint.</summary>
    internal bool OthersOut => Volatile.Read(ref _acquired) > 1;

    /// <summary>True when any request of this pool is out (leased or opening): read without the lock, as a hint.</summary>
    internal bool AnyOut => Volatile.Read(ref _acquired) > 0;

    /// <summary>How many responses were picked up by polling (tests).</summary>
    internal long PolledResponses => Interlocked.Read(ref _polledResponses);

    internal void CountPolledResponse() => Interlocked.Increment(ref _polledResponses);

    /// <summary>How many leases checked their connection by starting the response read rather than by a Poll (tests).</summary>
    internal long ReadAheads => Interlocked.Read(ref _readAheads);

    // An idle HTTP connection has nothing to say; readable means the server sent EOF (closed it) or garbage.
    // With readAhead (the exchange's own leases while other requests are in flight) it finds out by starting the
    // response read, which it needs anyway, instead of a Poll syscall. Other leases are polled: Connect() subscribers
    // may detach the stream, and a lone request is faster with the Poll (see TryLeaseIdle).
    private bool IsStale(Connection c, bool readAhead)
    {
        if (readAhead && c.CanReadAhead)
        {
            Interlocked.Increment(ref _readAheads);
            return !c.TryStartReadAhead();
        }
        try
        {
            return c.Socket is { } s && s.Poll(0, SelectMode.SelectRead);
        }
        catch
        {
            return true;
        }
    }

    /// <summary>
    /// Checks a connection just taken from the idle list, outside the pool lock: <c>Socket.Poll</c> is a syscall,
    /// and made under the lock it was what 64 concurrent requests contended on (0.015-0.03 contentions per request,
    /// 0.002 without it); with <paramref name="readAhead"/>, the response read is started instead
    /// (<see cref="Connection.TryStartReadAhead"/>). The caller keeps its slot while a stale connection is swapped for the next idle one, or
    /// for an opening (<paramref name="open"/>). Null and not <paramref name="open"/>: the connector was closed.
    /// </summary>
    private Connection? ReplaceIfStale(HostPool bucket, Connection c, ref bool open, bool readAhead = false)
    {
        Connection? current = c;
        while (current is not null && IsStale(current, readAhead))
        {
            var stale = current;
            current = null;
            List<Connection>? buffered = null;
            lock (_gate)
            {
                // Not in _leased any more: Close() already closed it and freed its slot.
                if (_leased.Remove(stale))
                {
                    if (_closed) Unacquire(bucket);
                    else
                    {
                        current = TakeIdle(bucket, ref buffered);
                        if (current is not null) _leased.Add(current);
                        else
                        {
                            _opening++;
                            open = true;
                        }
                    }
                }
            }
            stale.Discard();
            if (buffered is not null) foreach (var b in buffered) b.CloseCore();
        }
        return current;
    }

    internal void OnRelease(Connection c)
    {
        Waiter? handTo = null;
        var closeIt = false;
        var bucket = c.Bucket!;
        lock (_gate)
        {
            _leased.Remove(c);
            if (_closed || ForceClose || !c.KeepAlive || c.Closed)
            {
                closeIt = true;
                Unacquire(bucket);
            }
            else
            {
                handTo = DequeueWaiterFor(c.Key);
                if (handTo is null)
                {
                    AddAcquired(bucket, -1);
                    AddIdle(c);
                }
                else
                {
                    c.TryReacquire();
                    c.LeasedAlone = false;
                    _leased.Add(c);
                }
            }
        }
        if (closeIt)
        {
            c.CloseCore();
            WakeWaiters();
        }
        else if (handTo is not null)
        {
            handTo.Grant(c);
        }
        else
        {
            WakeWaiters();
        }
        Publish();
    }

    private void AddIdle(Connection c)
    {
        c.Bucket!.Idle.Add(c);
        _idleCount++;
        var keep = Options.KeepaliveTimeout;
        if (c.ServerKeepAlive is { } server && (keep is null || server < keep)) keep = server;
        if (keep is null) return;
        // aiohttp rounds its keep-alive cleanup with timeout_ceil_threshold: long expiries land on whole seconds.
        var due = Ceiling.Deadline(_scheduler.Now, keep.Value, Options.TimeoutCeilThreshold);
        // One expiry object per connection, rescheduled on every release instead of a new wheel entry each time.
        var expiry = c.IdleExpiry as IdleExpiryTimer ?? new IdleExpiryTimer(this, c);
        c.IdleExpiry = expiry;
        TimerWheel.For(_scheduler).Schedule(due, expiry);
        c.IdleTimer = expiry;
    }

    private sealed class IdleExpiryTimer(BaseConnector pool, Connection connection) : TimerWheel.Timer, IDisposable
    {
        protected internal override void Run() => pool.ExpireIdle(connection);

        public void Dispose() => Cancel();
    }

    private void ExpireIdle(Connection c)
    {
        lock (_gate)
        {
            var bucket = c.Bucket!;
            if (!bucket.Idle.Remove(c)) return;
            _idleCount--;
            DropIfEmpty(bucket);
        }
        c.CloseCore();
        Publish();
    }

    // A leased connection was closed or detached: its slot is free.
    internal void OnLeaseEnded(Connection c)
    {
        lock (_gate)
        {
            if (!_leased.Remove(c)) return;
            Unacquire(c.Bucket!);
        }
        WakeWaiters();
        Publish();
    }

    // An idle connection was closed from outside (session close races): drop it from the idle list.
    internal void OnIdleClosed(Connection c)
    {
        lock (_gate)
        {
            if (c.Bucket is { } bucket && bucket.Idle.Remove(c))
            {
                _idleCount--;
                DropIfEmpty(bucket);
            }
        }
        Publish();
    }

    private Waiter? DequeueWaiterFor(ConnectionKey key)
    {
        for (var n = _waiters.First; n is not null; n = n.Next)
        {
            if (n.Value.Key != key) continue;
            _waiters.Remove(n);
            n.Value.Node = null;
            return n.Value;
        }
        return null;
    }

    // Slots freed: let queued requests proceed in FIFO order, each taking an idle connection or opening one.
    private void WakeWaiters()
    {
        while (true)
        {
            Waiter? w = null;
            Connection? idle = null;
            List<Connection>? stale = null;
            lock (_gate)
            {
                if (_closed) return;
                for (var n = _waiters.First; n is not null; n = n.Next)
                {
                    if (!HasCapacity(Find(n.Value.Key))) continue;
                    w = n.Value;
                    _waiters.Remove(n);
                    w.Node = null;
                    break;
                }
                if (w is null) return;
                w.Bucket = BucketFor(w.Key);
                AddAcquired(w.Bucket, 1);
                idle = TakeIdle(w.Bucket, ref stale);
                if (idle is not null) _leased.Add(idle);
                else _opening++;
            }
            if (stale is not null) foreach (var s in stale) s.CloseCore();
            var open = idle is null;
            if (idle is not null) idle = ReplaceIfStale(w.Bucket, idle, ref open);
            if (idle is not null) w.Grant(idle);
            else if (open) w.Open();
            else w.Fail(new ClientConnectionError("Connector is closed."));
        }
    }

    // Snapshots cost a dictionary copy; they are made only while someone listens (State) or asks (CurrentState).
    private void Publish()
    {
        if (!_state.HasObservers) return;
        lock (_gate)
        {
            if (_state.HasObservers) _state.OnNext(Snapshot());
        }
    }

    private PoolState Snapshot() =>
        new(_leased.Count, _opening, _idleCount, _waiters.Count, _hosts.Values.Where(b => b.Acquired > 0).ToDictionary(b => b.Key, b => b.Acquired));

    private abstract class Waiter
    {
        public ConnectionKey Key { get; init; } = null!;
        public LinkedListNode<Waiter>? Node { get; set; }
        // Its key's bucket once it holds a slot (acquired): openings account against it.
        public HostPool Bucket { get; set; } = null!;
        public abstract void Grant(Connection c);
        public abstract void Open();
        public abstract void Fail(Exception e);
    }

    /// <summary>One subscription to <see cref="Connect(ConnectionKey)"/>: waits, opens or takes idle, and hands the lease over once.</summary>
    private sealed class ConnectOperation : Waiter, IDisposable
    {
        private readonly BaseConnector _pool;
        private readonly IObserver<Connection> _observer;
        private CancellationTokenSource? _cts; // only an opening needs one: most leases are idle connections
        private readonly ClientTimeout? _timeout;
        private readonly IScheduler? _scheduler;
        private readonly Action<ConnectorTraceKind>? _trace = ConnectorTrace.Current.Value;
        private bool _queued;
        private int _done; // 1 once the observer got a terminal message or the subscription was disposed

        public ConnectOperation(BaseConnector pool, ConnectionKey key, ClientTimeout? timeout, IScheduler? scheduler, IObserver<Connection> observer)
        {
            _pool = pool;
            _observer = observer;
            _timeout = timeout;
            _scheduler = scheduler;
            Key = key;
        }

        public void Start()
        {
            Connection? idle = null;
            var open = false;
            List<Connection>? stale = null;
            lock (_pool._gate)
            {
                if (_pool._closed)
                {
                    Fail(new ClientConnectionError("Connector is closed."));
                    return;
                }
                if (_pool.HasCapacity(_pool.Find(Key)) && !_pool.MustQueueBehind(Key))
                {
                    Bucket = _pool.BucketFor(Key);
                    _pool.AddAcquired(Bucket, 1);
                    idle = _pool.TakeIdle(Bucket, ref stale);
                    if (idle is not null) _pool._leased.Add(idle);
                    else
                    {
                        _pool._opening++;
                        open = true;
                    }
                }
                else
                {
                    Node = _pool._waiters.AddLast(this);
                    _queued = true;
                }
            }
            if (_queued) ConnectorTrace.Emit(_trace, ConnectorTraceKind.QueuedStart);
            if (stale is not null) foreach (var s in stale) s.CloseCore();
            if (idle is not null)
            {
                idle = _pool.ReplaceIfStale(Bucket, idle, ref open);
                if (idle is null && !open) Fail(new ClientConnectionError("Connector is closed."));
            }
            if (idle is not null) Grant(idle);
            else if (open) Open();
            _pool.Publish();
        }

        public override void Grant(Connection c)
        {
            if (Interlocked.Exchange(ref _done, 1) != 0)
            {
                // Disposed while the lease was on its way: give it back untouched.
                c.Release();
                return;
            }
            if (_queued) ConnectorTrace.Emit(_trace, ConnectorTraceKind.QueuedEnd);
            if (c.IsReused) ConnectorTrace.Emit(_trace, ConnectorTraceKind.Reuse);
            _observer.OnNext(c);
            _observer.OnCompleted();
        }

        public override void Open() => _ = OpenAsync();

        // Never faults: every exception is caught and routed to the observer, so nothing goes unobserved.
        private async Task OpenAsync()
        {
            Connection? c = null;
            Exception? error = null;
            if (_queued) ConnectorTrace.Emit(_trace, ConnectorTraceKind.QueuedEnd);
            ConnectorTrace.Current.Value = _trace;
            OpeningScheduler.Value = _scheduler;
            ConnectorTrace.Emit(_trace, ConnectorTraceKind.CreateStart);
            var cts = new CancellationTokenSource();
            // Published before reading _done, as Dispose sets _done before reading _cts: one of the two cancels.
            Interlocked.Exchange(ref _cts, cts);
            if (Volatile.Read(ref _done) != 0) cts.Cancel();
            try
            {
                c = await _pool.CreateConnectionAsync(Key, _timeout, cts.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                error = e;
            }
            bool closed;
            lock (_pool._gate)
            {
                _pool._opening--;
                closed = _pool._closed;
                if (c is not null && !closed)
                {
                    c.Bucket = Bucket;
                    _pool._leased.Add(c);
                }
                else _pool.Unacquire(Bucket);
            }
            if (c is null || closed)
            {
                c?.CloseCore();
                _pool.WakeWaiters();
                _pool.Publish();
                if (closed && error is null) error = new ClientConnectionError("Connector is closed.");
                Fail(error!);
                return;
            }
            _pool.Publish();
            ConnectorTrace.Emit(_trace, ConnectorTraceKind.CreateEnd);
            Grant(c);
        }

        public override void Fail(Exception e)
        {
            if (Interlocked.Exchange(ref _done, 1) != 0) return;
            _observer.OnError(e);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0) return;
            var wasWaiting = false;
            lock (_pool._gate)
            {
                if (Node is not null)
                {
                    _pool._waiters.Remove(Node);
                    Node = null;
                    wasWaiting = true;
                }
            }
            Volatile.Read(ref _cts)?.Cancel();
            if (wasWaiting) _pool.Publish();
        }
    }
}
