using System.Reactive.Linq;
using System.Runtime.ExceptionServices;
using Polly;

namespace RxHttp.Extensions.Polly;

/// <summary>
/// Runs a Polly 8 <see cref="ResiliencePipeline{T}"/> around RxHttp requests. Each attempt the pipeline makes
/// subscribes the cold request once (so it is sent again); Polly's <see cref="CancellationToken"/> disposes the
/// attempt's subscription, which aborts the request and closes its connection; disposing the returned
/// observable's subscription cancels Polly. The response of every attempt that is not the outcome is disposed.
/// </summary>
/// <remarks>
/// Polly decides what is retried. A request whose body cannot be sent twice (<see cref="Payload.IsReplayable"/> is
/// false: a non-seekable stream, an async sequence of chunks) is sent once through the middleware form: a second
/// attempt fails with <see cref="InvalidOperationException"/> instead of sending a truncated body.
/// </remarks>
public static class ResilienceExtensions
{
    /// <summary>Sends the request through <paramref name="pipeline"/>: <c>session.Get(url).WithResilience(pipeline)</c>.</summary>
    public static IObservable<ClientResponse> WithResilience(this IObservable<ClientResponse> request, ResiliencePipeline<ClientResponse> pipeline)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        return Run(new Execution(request, null), (execution, ct) =>
            pipeline.ExecuteAsync(static (e, token) => e.AttemptAsync(token), execution, ct));
    }

    /// <summary>Sends the request through a non-generic <paramref name="pipeline"/> (its strategies see exceptions only).</summary>
    public static IObservable<ClientResponse> WithResilience(this IObservable<ClientResponse> request, ResiliencePipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        return Run(new Execution(request, null), (execution, ct) =>
            pipeline.ExecuteAsync(static (e, token) => e.AttemptAsync(token), execution, ct));
    }

    /// <summary>The pipeline as a step of a request pipeline (see <see cref="Middleware(ResiliencePipeline{ClientResponse})"/>).</summary>
    public static RequestHandler WithResilience(this RequestHandler hop, ResiliencePipeline<ClientResponse> pipeline)
    {
        ArgumentNullException.ThrowIfNull(hop);
        ArgumentNullException.ThrowIfNull(pipeline);
        return request => Run(new Execution(Observable.Defer(() => hop(request)), request), (execution, ct) =>
            pipeline.ExecuteAsync(static (e, token) => e.AttemptAsync(token), execution, ct));
    }

    /// <summary>
    /// The pipeline as a middleware for <see cref="ClientSessionOptions.Middlewares"/> or
    /// <see cref="RequestOptions.Middlewares"/>: every request (each redirect hop) goes through it.
    /// </summary>
    public static Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> Middleware(ResiliencePipeline<ClientResponse> pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        return (request, next) => ((RequestHandler)(r => next(r))).WithResilience(pipeline)(request);
    }

    /// <summary>Where an observer's exception thrown after Subscribe returned goes (tests replace it; default: the thread pool, unhandled).</summary>
    internal static Action<ExceptionDispatchInfo> Unhandled { get; set; } =
        static fault => ThreadPool.UnsafeQueueUserWorkItem(static f => f.Throw(), fault, preferLocal: false);

    // Cold: each subscription is one execution of the pipeline.
    private static IObservable<ClientResponse> Run(Execution template, Func<Execution, CancellationToken, ValueTask<ClientResponse>> execute) =>
        Observable.Create<ClientResponse>(observer =>
        {
            var execution = template.Fresh();
            var cts = new CancellationTokenSource();
            var gate = new object();
            var disposed = false;
            var delivery = DeliverAsync();
            // Only the observer can fault the delivery, and its exception is its own, as from any producer (and as
            // RxHttp's responses do): thrown out of Subscribe when the outcome came inside it, else on the thread
            // pool, unhandled. Left in the task, it vanished.
            if (delivery.IsFaulted) delivery.GetAwaiter().GetResult();
            else if (!delivery.IsCompleted)
                delivery.ContinueWith(static t => Unhandled(ExceptionDispatchInfo.Capture(t.Exception!.InnerException!)), CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return System.Reactive.Disposables.Disposable.Create(() =>
            {
                lock (gate) disposed = true;
                cts.Cancel();
            });

            // Every outcome goes to the observer, or is disposed when nobody listens any more.
            async Task DeliverAsync()
            {
                ClientResponse? response = null;
                Exception? error = null;
                try
                {
                    response = await execute(execution, cts.Token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    error = e;
                }
                execution.DisposeAllBut(response);
                // Decided under the gate, delivered outside it: an observer that waits in OnNext for another thread
                // (a UI's synchronous Invoke) while that thread disposes the subscription would otherwise deadlock.
                // A disposal after the decision is one that came after the outcome, as with any producer.
                bool deliver;
                lock (gate)
                {
                    deliver = !disposed;
                    disposed = true;
                }
                if (!deliver)
                {
                    response?.Dispose();
                    return;
                }
                if (error is not null) observer.OnError(error);
                else
                {
                    observer.OnNext(response!);
                    observer.OnCompleted();
                }
            }
        });
}
