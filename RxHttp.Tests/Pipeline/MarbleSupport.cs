using System.Net;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Text;
using System.Text.Json;

namespace RxHttp.Tests.Pipeline;

/// <summary>
/// What the marble tests of the pipeline's steps are written with, after Rx.NET's own operator tests: the wire is a
/// set of <see cref="ITestableObservable{T}"/>s on a <see cref="TestScheduler"/>, so a test states when each answer
/// comes and asserts when each was subscribed and unsubscribed.
/// </summary>
internal static class Marble
{
    public static long S(double seconds) => (long)Math.Round(seconds * TimeSpan.TicksPerSecond);

    /// <summary>A head-only response to a request for <paramref name="url"/>, as the exchange hands it to the engine.</summary>
    public static ClientResponse Head(string url, int status, params (string Name, string Value)[] headers) =>
        new(status, "R", HttpVersion.Version11,
            new HeaderCollection(headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))),
            new RequestInfo("GET", Url.Parse(url), new HeaderCollection()), null, null, true, JsonSerializerOptions.Web);

    /// <summary>The engine as a cold observable: each subscription is one <see cref="RequestCall"/>.</summary>
    public static IObservable<ClientResponse> Call(CallPlan plan, ClientRequest request, Func<ClientResponse, bool>? raise = null,
        TimeSpan? total = null, TimeSpan ceilThreshold = default, TestScheduler? scheduler = null) =>
        Observable.Create<ClientResponse>(o => RequestCall.Start(plan, request, o, raise, false, total, ceilThreshold, scheduler));

    /// <summary>
    /// An async step as a cold observable whose messages come at the tick the step completes: its continuation runs
    /// inline, where <c>Observable.FromAsync</c> may hop to the thread pool. Disposing cancels the step.
    /// </summary>
    public static IObservable<T> FromValueTask<T>(Func<CancellationToken, ValueTask<T>> start) =>
        Observable.Create<T>(o =>
        {
            var cts = new CancellationTokenSource();
            var pending = start(cts.Token);
            var awaiter = pending.GetAwaiter();
            void Report()
            {
                T value;
                try
                {
                    value = awaiter.GetResult();
                }
                catch (Exception e)
                {
                    o.OnError(e);
                    return;
                }
                o.OnNext(value);
                o.OnCompleted();
            }
            if (awaiter.IsCompleted) Report();
            else awaiter.UnsafeOnCompleted(Report);
            return Disposable.Create(cts.Cancel);
        });

    /// <summary>What a test asserts of a response: status and URL.</summary>
    public static IObservable<string> Outcome(this IObservable<ClientResponse> source) => source.Select(r => $"{r.Status} {r.Url.Path}");
}

/// <summary>
/// The wire as the engine's seam sees it: hop <c>n</c> of a request is answered by <c>hops[n]</c>, a testable
/// observable. Through <see cref="IExchange"/> (the session's direct path) a hop is subscribed when the engine sends it
/// and unsubscribed when it answers or the engine cancels it; through <see cref="Handler"/> (the path of sessions with
/// middlewares) the engine subscribes the observable itself.
/// </summary>
internal sealed class ScriptedHops(params ITestableObservable<ClientResponse>[] hops) : IExchange
{
    public List<ClientRequest> Sent { get; } = new();

    public RequestHandler Handler => request => hops[Record(request)];

    public CallPlan Plan(bool throughHandler, AbstractCookieJar? jar = null, int maxRedirects = 10, bool allowRedirects = true) =>
        throughHandler
            ? new CallPlan(Handler, null, jar, Auth: true, new RedirectOptions(allowRedirects, maxRedirects))
            : new CallPlan(null, this, jar, Auth: true, new RedirectOptions(allowRedirects, maxRedirects));

    private int Record(ClientRequest request)
    {
        Sent.Add(request);
        if (Sent.Count > hops.Length) throw new InvalidOperationException($"Hop {Sent.Count} ({request}) was not scripted.");
        return Sent.Count - 1;
    }

    public ValueTask<ClientResponse> SendAsync(ClientRequest request, CancellationToken ct)
    {
        var source = hops[Record(request)];
        // Synchronous continuations: the engine resumes inside the scheduler's action, at the tick of the answer.
        var answer = new TaskCompletionSource<ClientResponse>();
        var subscription = new SingleAssignmentDisposable();
        subscription.Disposable = source.Subscribe(
            r =>
            {
                if (answer.TrySetResult(r)) subscription.Dispose();
            },
            e =>
            {
                answer.TrySetException(e);
                subscription.Dispose();
            },
            () => answer.TrySetException(new InvalidOperationException("The hop completed without a response.")));
        if (ct.CanBeCanceled)
        {
            ct.Register(() =>
            {
                subscription.Dispose();
                answer.TrySetCanceled(ct);
            });
        }
        return new ValueTask<ClientResponse>(answer.Task);
    }
}

/// <summary>
/// An in-memory connection whose server side is a testable observable of text: subscribed when the connection is
/// opened, unsubscribed when the client closes it, so its <c>Subscriptions</c> say when the connection lived. Reads
/// wait for the server's next text; a waiting read completes inline, inside the scheduler's action.
/// </summary>
internal sealed class PeerStream : Stream
{
    private readonly TestScheduler _scheduler;
    private readonly List<byte> _inbound = new();
    private readonly IDisposable _subscription;
    private bool _eof;
    private bool _disposed;
    private TaskCompletionSource<int>? _pending;
    private Memory<byte> _pendingBuffer;

    public PeerStream(TestScheduler scheduler, IObservable<string> server)
    {
        _scheduler = scheduler;
        _subscription = server.Subscribe(text => Deliver(Encoding.Latin1.GetBytes(text)), _ => Deliver(null), () => Deliver(null));
    }

    /// <summary>What the client wrote, with the tick it was written at.</summary>
    public List<(long Time, byte[] Data)> Written { get; } = new();

    public string WrittenText => string.Concat(Written.Select(w => Encoding.Latin1.GetString(w.Data)));

    private void Deliver(byte[]? data)
    {
        TaskCompletionSource<int>? pending;
        int n = 0;
        lock (_inbound)
        {
            if (data is null) _eof = true;
            else _inbound.AddRange(data);
            pending = _pending;
            if (pending is null) return;
            _pending = null;
            n = Take(_pendingBuffer.Span);
        }
        pending.TrySetResult(n);
    }

    // A zero-byte read completes (with 0) once data is there, as a socket's does.
    private int Take(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _inbound.Count);
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_inbound)[..n].CopyTo(buffer);
        _inbound.RemoveRange(0, n);
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (_inbound)
        {
            if (_disposed) return ValueTask.FromException<int>(new ObjectDisposedException(nameof(PeerStream)));
            if (_inbound.Count > 0 || _eof) return new ValueTask<int>(Take(buffer.Span));
            var pending = _pending = new TaskCompletionSource<int>();
            _pendingBuffer = buffer;
            if (cancellationToken.CanBeCanceled)
                cancellationToken.Register(() => pending.TrySetCanceled(cancellationToken));
            return new ValueTask<int>(pending.Task);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_disposed) return ValueTask.FromException(new ObjectDisposedException(nameof(PeerStream)));
        Written.Add((_scheduler.Clock, buffer.ToArray()));
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        TaskCompletionSource<int>? pending;
        lock (_inbound)
        {
            if (_disposed) return;
            _disposed = true;
            pending = _pending;
            _pending = null;
        }
        _subscription.Dispose();
        // As a socket's stream: a read in flight fails when the connection is closed under it.
        pending?.TrySetException(new ObjectDisposedException(nameof(PeerStream)));
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>
/// A <see cref="StreamConnector"/> over <see cref="PeerStream"/>s: connection <c>n</c> is opened when
/// <c>connecting[n]</c> emits (null: at once) and then served by <c>servers[n]</c>.
/// </summary>
internal sealed class VirtualWire
{
    private readonly TestScheduler _scheduler;
    private readonly Func<int, ITestableObservable<string>?> _connecting;
    private readonly Func<int, IObservable<string>> _server;

    public VirtualWire(TestScheduler scheduler, Func<int, IObservable<string>> server, Func<int, ITestableObservable<string>?>? connecting = null, ConnectorOptions? options = null)
    {
        _scheduler = scheduler;
        _server = server;
        _connecting = connecting ?? (_ => null);
        Connector = new StreamConnector(Open, options);
        Connector.AdoptScheduler(scheduler);
    }

    public StreamConnector Connector { get; }

    public List<PeerStream> Streams { get; } = new();

    public Http1Exchange Exchange() => new(Connector, _scheduler, new RxHttp.Http1.HttpParserLimits(), JsonSerializerOptions.Web);

    private int _attempts;

    private ValueTask<Stream> Open(ConnectionKey key, CancellationToken ct)
    {
        var n = _attempts++;
        PeerStream Opened()
        {
            var stream = new PeerStream(_scheduler, _server(n));
            Streams.Add(stream);
            return stream;
        }
        if (_connecting(n) is not { } connecting) return new ValueTask<Stream>(Opened());
        var opened = new TaskCompletionSource<Stream>();
        var subscription = new SingleAssignmentDisposable();
        subscription.Disposable = connecting.Subscribe(_ =>
        {
            subscription.Dispose();
            opened.TrySetResult(Opened());
        });
        ct.Register(() =>
        {
            subscription.Dispose();
            opened.TrySetCanceled(ct);
        });
        return new ValueTask<Stream>(opened.Task);
    }
}
