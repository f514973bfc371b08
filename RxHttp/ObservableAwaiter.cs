using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace RxHttp;

/// <summary>
/// Awaits a cold observable's last value, as Rx's <c>GetAwaiter</c> does: subscribing happens when the awaiter is
/// made; an error is rethrown; an empty sequence throws <see cref="InvalidOperationException"/>. The continuation
/// runs on the captured <see cref="SynchronizationContext"/> when there is one (UI apps), else where the sequence ended.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ObservableAwaiter<T> : IObserver<T>, ICriticalNotifyCompletion
{
    private static readonly Action Completed = static () => { };
    private T? _value;
    private bool _hasValue;
    private ExceptionDispatchInfo? _error;
    private Action? _continuation;

    private ObservableAwaiter() { }

    internal static ObservableAwaiter<T> Subscribe(object source, Func<object, IObserver<T>, IDisposable> subscribe)
    {
        // As Rx's awaiter, the subscription is not kept: the sequence ends by itself and detaches then.
        var awaiter = new ObservableAwaiter<T>();
        subscribe(source, awaiter);
        return awaiter;
    }

    /// <summary>Whether the sequence has ended.</summary>
    public bool IsCompleted => ReferenceEquals(Volatile.Read(ref _continuation), Completed);

    /// <summary>The last value; rethrows the sequence's error; waits if the sequence has not ended yet.</summary>
    public T GetResult()
    {
        if (!IsCompleted)
        {
            // Not through the captured context, as Rx's GetResult: a UI thread blocked here cannot run what it posts,
            // so the wake-up would wait for the very thread it should wake.
            using var done = new ManualResetEventSlim();
            Register(done.Set);
            done.Wait();
        }
        _error?.Throw();
        if (!_hasValue) throw new InvalidOperationException("Sequence contains no elements.");
        return _value!;
    }

    /// <summary>Schedules <paramref name="continuation"/> for when the sequence ends, flowing the execution context.</summary>
    public void OnCompleted(Action continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var context = ExecutionContext.Capture();
        UnsafeOnCompleted(context is null ? continuation : RunIn(context, continuation));
    }

    // A method of its own, as PostTo: the captured parameters would otherwise cost a closure on every call.
    private static Action RunIn(ExecutionContext context, Action continuation) =>
        () => ExecutionContext.Run(context, static c => ((Action)c!)(), continuation);

    /// <summary>Schedules <paramref name="continuation"/> for when the sequence ends.</summary>
    public void UnsafeOnCompleted(Action continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        if (SynchronizationContext.Current is { } context) continuation = PostTo(context, continuation);
        Register(continuation);
    }

    private void Register(Action continuation)
    {
        if (Interlocked.CompareExchange(ref _continuation, continuation, null) is not null) continuation();
    }

    // A method of its own: with the lambda inline, every await allocated its closure, a context or not.
    private static Action PostTo(SynchronizationContext context, Action continuation) =>
        () => context.Post(static c => ((Action)c!)(), continuation);

    void IObserver<T>.OnNext(T value)
    {
        _value = value;
        _hasValue = true;
    }

    void IObserver<T>.OnError(Exception error)
    {
        _error = ExceptionDispatchInfo.Capture(error);
        Finish();
    }

    void IObserver<T>.OnCompleted() => Finish();

    private void Finish()
    {
        var continuation = Interlocked.Exchange(ref _continuation, Completed);
        if (continuation is not null && !ReferenceEquals(continuation, Completed)) continuation();
        // An awaited response whose body nobody started reading (by the time an inline continuation returned, or
        // before a synchronous await resumes) has it kept in memory, so it does not hold its connection.
        if (typeof(T) == typeof(ClientResponse) && _value is ClientResponse response) response.OnSubscriptionEnded();
    }
}
