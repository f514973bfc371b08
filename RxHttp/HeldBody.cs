using System.Reactive.Concurrency;

namespace RxHttp;

/// <summary>
/// A body held back behind <c>Expect: 100-continue</c> for at most a while: RFC 9110 §10.1.1 asks a client not to wait
/// indefinitely, since many servers (and every HTTP/1.0 proxy) never send 100 and wait for the body instead. When the
/// wait runs out on the request's scheduler the body starts while the head is still awaited; when the server answers
/// first the exchange takes the body over. Whichever comes first claims it, the other finds it taken.
/// </summary>
internal sealed class HeldBody
{
    private readonly TaskCompletionSource<Task<bool>> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Connection _connection;
    private readonly ClientRequest _request;
    private readonly SentRequest _sent;
    private readonly RequestTracer? _tracer;
    private readonly CancellationToken _ct;
    private readonly IDisposable _timer;
    private CancellationTokenSource? _cut; // the started body's own token, so a closing answer can stop it
    private int _state; // 0 held, 1 started by the timer, 2 claimed by the server's answer

    // Fields rather than a lambda: a closure over the exchange's parameters would be allocated on every request, held or not.
    public HeldBody(Connection connection, ClientRequest request, SentRequest sent, RequestTracer? tracer, IScheduler scheduler, TimeSpan wait, CancellationToken ct)
    {
        _connection = connection;
        _request = request;
        _sent = sent;
        _tracer = tracer;
        _ct = ct;
        // Through the wheel: an Expect100Timeout of TimeSpan.MaxValue ("never") is longer than Scheduler.Default takes whole.
        _timer = Transport.TimerWheel.After(scheduler, wait, this, static self => self.OnWaitOver());
    }

    private void OnWaitOver()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) return;
        Task<bool> sending;
        try
        {
            // Not watching for an early answer: the exchange is reading the connection for the head meanwhile, and
            // stops the body through its token instead (CutShort).
            _cut = CancellationTokenSource.CreateLinkedTokenSource(_ct);
            _connection.BeginBackgroundWrite();
            try
            {
                sending = RequestSender.SendBodyAsync(_connection, _request, _sent, headSent: true, _tracer, _cut.Token, watch: false);
            }
            catch
            {
                _connection.EndBackgroundWrite();
                throw;
            }
            // Once the body has ended: its link to the request's token goes, and the connection's buffers are no longer written.
            sending.ContinueWith(static (_, self) => ((HeldBody)self!).OnBodyEnded(), this, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        catch (Exception e)
        {
            sending = Task.FromException<bool>(e);
        }
        // Not only on faulted: an OperationCanceledException the source threw ends the body as canceled.
        sending.ContinueWith(static (t, self) => ((HeldBody)self!).OnBodyFailed(ErrorOf(t)), this, CancellationToken.None,
            TaskContinuationOptions.NotOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _started.SetResult(sending);
    }

    private void OnBodyEnded()
    {
        _cut!.Dispose();
        _connection.EndBackgroundWrite();
    }

    // The exchange may be waiting for a head the server will never send, since the body it waits for stopped half-way
    // (the payload threw, or ended short of its Content-Length): end that wait, so the body's own error is what the
    // request fails with rather than a timeout minutes later. A failed write (the server reset) or a cut leaves the
    // wait alone: the server's answer may be on its way or already read.
    private void OnBodyFailed(Exception e)
    {
        // The body source's own ClientOSError (a request of its own that failed) or cancellation is its failure, not
        // the connection's nor the cut's.
        if (e is ClientOSError && _connection.WriteFailed || e is OperationCanceledException && _cut is { IsCancellationRequested: true }) return;
        Volatile.Write(ref _bodyError, e);
        _connection.Abort(e);
    }

    private Exception? _bodyError;

    private static Exception ErrorOf(Task task)
    {
        if (task.Exception is { } faulted) return faulted.InnerException!;
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException e)
        {
            return e;
        }
        return new OperationCanceledException();
    }

    /// <summary>The error the body the timer started failed with on its own (not a write error, not a cut), or null.</summary>
    public Exception? BodyError => Volatile.Read(ref _bodyError);

    /// <summary>
    /// The server answered: true when the body is still held (the caller now decides what becomes of it), false when
    /// the wait ran out first and <see cref="Sending"/> carries the body.
    /// </summary>
    public bool TryClaim()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) != 0) return false;
        _timer.Dispose();
        return true;
    }

    /// <summary>The body the timer started (false: cut short by the server's answer); only after <see cref="TryClaim"/> returned false.</summary>
    public Task<bool> Sending => _started.Task.Unwrap();

    /// <summary>
    /// The server's final answer closes the connection while the body the timer started is still going (RFC 9112
    /// §9.5): stop it; <see cref="Sending"/> then ends with an <see cref="OperationCanceledException"/>.
    /// </summary>
    public void CutShort()
    {
        try
        {
            _cut?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The body had already ended.
        }
    }

    /// <summary>The exchange failed: the timer must not start the body, and a body it started must not fail unobserved.</summary>
    public void Abandon()
    {
        if (TryClaim()) return;
        Sending.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
