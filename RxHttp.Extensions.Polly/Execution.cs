namespace RxHttp.Extensions.Polly;

/// <summary>
/// One execution of a pipeline around a cold request: runs its attempts and keeps every response they produced, so
/// that all but the outcome are disposed whatever the strategies did with them (retried, timed out, hedged).
/// </summary>
internal sealed class Execution(IObservable<ClientResponse> request, ClientRequest? sent)
{
    private readonly List<ClientResponse> _responses = new();
    private int _attempts;

    public Execution Fresh() => new(request, sent);

    /// <summary>
    /// One attempt: subscribes the request and completes with its response. The token's cancellation disposes the
    /// subscription (aborting the request and closing its connection); a response arriving after that is disposed.
    /// </summary>
    public ValueTask<ClientResponse> AttemptAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _attempts) > 1 && sent?.Body is { IsReplayable: false })
            throw new InvalidOperationException($"{sent.Method} {sent.Url} has a body that can be sent only once ({sent.Body.GetType().Name}); the resilience pipeline tried to send it again.");
        var attempt = new Attempt(this, cancellationToken);
        attempt.Start(request);
        return new ValueTask<ClientResponse>(attempt.Task);
    }

    public void DisposeAllBut(ClientResponse? outcome)
    {
        List<ClientResponse> others;
        lock (_responses)
        {
            others = _responses.Where(r => !ReferenceEquals(r, outcome)).ToList();
            _responses.Clear();
        }
        foreach (var r in others) r.Dispose();
    }

    private void Track(ClientResponse response)
    {
        lock (_responses) _responses.Add(response);
    }

    private sealed class Attempt(Execution owner, CancellationToken ct) : TaskCompletionSource<ClientResponse>, IObserver<ClientResponse>
    {
        private readonly object _gate = new();
        private IDisposable? _subscription;
        private CancellationTokenRegistration _registration;
        private ClientResponse? _response;
        private bool _cancelled;

        public void Start(IObservable<ClientResponse> request)
        {
            if (ct.IsCancellationRequested)
            {
                TrySetCanceled(ct);
                return;
            }
            _registration = ct.Register(Cancel);
            var subscription = request.Subscribe(this);
            bool cancelled;
            lock (_gate)
            {
                cancelled = _cancelled;
                if (!cancelled) _subscription = subscription;
            }
            if (cancelled) subscription.Dispose();
        }

        public void OnNext(ClientResponse value)
        {
            owner.Track(value);
            lock (_gate)
                if (_response is null && !_cancelled)
                {
                    _response = value;
                    return;
                }
            value.Dispose(); // a second response, or one arriving after cancellation
        }

        public void OnError(Exception error)
        {
            _registration.Dispose();
            TrySetException(error);
        }

        public void OnCompleted()
        {
            _registration.Dispose();
            ClientResponse? response;
            lock (_gate) response = _response;
            if (response is null) TrySetException(new InvalidOperationException("The request completed without a response."));
            else TrySetResult(response);
        }

        private void Cancel()
        {
            IDisposable? subscription;
            lock (_gate)
            {
                _cancelled = true;
                subscription = _subscription;
            }
            if (!TrySetCanceled(ct)) return;
            subscription?.Dispose();
        }
    }
}
