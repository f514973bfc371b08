namespace RxHttp;

/// <summary>
/// The bridge from the pool's <c>IObservable&lt;Connection&gt;</c> leases to an await: the exchange's way in when
/// <see cref="BaseConnector.TryLeaseIdle"/> found no idle connection.
/// </summary>
internal static class LeaseBridge
{
    /// <summary>
    /// Awaits the first lease; a lease arriving after cancellation is released, not lost. No task at all when an
    /// idle connection is handed out at once. A lease that arrives later resumes the caller on the thread pool,
    /// unless <paramref name="inline"/> (a request on a virtual clock, whose every step must be over when the test's
    /// <c>AdvanceBy</c> returns).
    /// </summary>
    public static ValueTask<Connection> FirstLeaseValueAsync(IObservable<Connection> source, CancellationToken ct, bool inline = false)
    {
        var lease = new LeaseObserver { Inline = inline };
        var subscription = source.Subscribe(lease);
        // An idle connection is handed out synchronously: then there is no task to build, nothing to cancel, and
        // registering (plus a continuation queued to the thread pool to undo it) would cost a work item per request.
        var task = lease.ToTask();
        if (task is null) return lease.SyncResult();
        if (ct.CanBeCanceled && !task.IsCompleted)
        {
            lease.Subscription = subscription;
            var reg = ct.Register(static (state, token) =>
            {
                var l = (LeaseObserver)state!;
                l.Completion!.TrySetCanceled(token);
                l.Subscription!.Dispose();
            }, lease);
            task.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), reg,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return new ValueTask<Connection>(task);
    }

    // One object is observer, result holder and subscription holder: no delegates or closures per request, and a
    // task only when the lease does not arrive during Subscribe.
    private sealed class LeaseObserver : IObserver<Connection>
    {
        private Connection? _value;
        private Exception? _error;
        private bool _done;
        public TaskCompletionSource<Connection>? Completion;
        public IDisposable? Subscription;
        public bool Inline;

        private object Gate => this;

        // Null when the outcome is already known (see SyncResult); else the task that will carry it.
        public Task<Connection>? ToTask()
        {
            lock (Gate)
            {
                if (_done) return null;
                // Not inline by default: a lease granted by another request's release would run this request's
                // whole send on the releasing thread, inside its completion.
                Completion = new TaskCompletionSource<Connection>(Inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
                return Completion.Task;
            }
        }

        public ValueTask<Connection> SyncResult() =>
            _error is null ? new ValueTask<Connection>(_value!) : ValueTask.FromException<Connection>(_error);

        public void OnNext(Connection value)
        {
            lock (Gate)
            {
                if (Completion is null)
                {
                    if (_done) value.Release();
                    else
                    {
                        _value = value;
                        _done = true;
                    }
                    return;
                }
            }
            if (!Completion.TrySetResult(value)) value.Release();
        }

        public void OnError(Exception error)
        {
            lock (Gate)
            {
                if (Completion is null)
                {
                    if (!_done)
                    {
                        _error = error;
                        _done = true;
                    }
                    return;
                }
            }
            Completion.TrySetException(error);
        }

        // Completion normally follows the lease; building the error only when it did not keeps an exception
        // allocation off every request.
        public void OnCompleted()
        {
            lock (Gate)
            {
                if (Completion is null)
                {
                    if (!_done)
                    {
                        _error = new ClientConnectionError("The connector completed without a connection.");
                        _done = true;
                    }
                    return;
                }
            }
            if (!Completion.Task.IsCompleted) Completion.TrySetException(new ClientConnectionError("The connector completed without a connection."));
        }
    }
}
