namespace RxHttp.Tests.Support;

/// <summary>
/// An observer that records every breach of the Rx grammar it sees instead of trusting the producer: calls that overlap
/// (two threads inside it at once), anything after a terminal notification, and a notification that arrives after
/// <see cref="Disposed"/> was marked (the subscription's Dispose had returned).
/// </summary>
public sealed class ContractObserver<T> : IObserver<T>
{
    private readonly Action<T>? _onNext;
    private int _inside;
    private int _terminal; // 0 none, 1 error, 2 completed
    private volatile bool _disposed;
    private readonly List<string> _violations = new();
    private int _count;

    public ContractObserver(Action<T>? onNext = null) => _onNext = onNext;

    public int Count => Volatile.Read(ref _count);
    public Exception? Error { get; private set; }
    public bool Terminated => Volatile.Read(ref _terminal) != 0;
    public bool Completed => Volatile.Read(ref _terminal) == 2;

    public IReadOnlyList<string> Violations
    {
        get { lock (_violations) return _violations.ToList(); }
    }

    /// <summary>Call right after the subscription's Dispose returned: nothing may arrive from then on.</summary>
    public void MarkDisposed() => _disposed = true;

    private void Note(string what)
    {
        lock (_violations) _violations.Add(what);
    }

    private void Enter(string what)
    {
        if (Interlocked.Increment(ref _inside) != 1) Note($"{what} overlapped another call");
        if (Volatile.Read(ref _terminal) != 0) Note($"{what} after the terminal notification");
        if (_disposed) Note($"{what} after Dispose returned");
    }

    private void Leave() => Interlocked.Decrement(ref _inside);

    public void OnNext(T value)
    {
        Enter("OnNext");
        try
        {
            Interlocked.Increment(ref _count);
            // Widen the window in which an overlapping call would be seen.
            Thread.SpinWait(200);
            _onNext?.Invoke(value);
        }
        finally
        {
            Leave();
        }
    }

    public void OnError(Exception error)
    {
        Enter("OnError");
        Error = error;
        Interlocked.Exchange(ref _terminal, 1);
        Leave();
    }

    public void OnCompleted()
    {
        Enter("OnCompleted");
        Interlocked.Exchange(ref _terminal, 2);
        Leave();
    }
}
