using System.Diagnostics;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// What a <see cref="RequestCall"/> does per hop, fixed per session (or per operator): built once, shared by
/// every request.
/// </summary>
/// <param name="Hop">The hop as a handler (middlewares, tracing, or a caller's own); null sends straight through <paramref name="Exchange"/>.</param>
/// <param name="Exchange">The exchange used when <paramref name="Hop"/> is null.</param>
/// <param name="Jar">Sends the jar's cookies on each hop and stores Set-Cookie; null for none.</param>
/// <param name="Auth">Applies Basic credentials (URL or request property) on each hop.</param>
/// <param name="Redirects">Whether and how far redirects are followed.</param>
/// <param name="JarPerExchange">
/// The hop's innermost step (under the middlewares) stores every exchange's Set-Cookie and refreshes the jar's
/// cookies on a middleware's resend (<see cref="CookiesOperator.PerExchange"/>), so the call itself does not store.
/// </param>
internal sealed record CallPlan(RequestHandler? Hop, IExchange? Exchange, AbstractCookieJar? Jar, bool Auth, RedirectOptions Redirects, bool JarPerExchange = false);

/// <summary>
/// The engine: one request from subscription to its one response, as a single object. Its steps are written once
/// and the public operators are the same code wrapped as operators: the Total deadline is <see cref="TotalDeadline"/>
/// (also <see cref="TotalTimeoutOperator"/>), redirects <see cref="RedirectsOperator.Step"/> (also
/// <c>FollowRedirects</c>), cookies <see cref="CookiesOperator.WithCookieHeader"/>/<see cref="CookiesOperator.Store"/>
/// (also <c>WithCookies</c>), auth <see cref="BasicAuthOperator.WithAuthorization"/> (also <c>WithBasicAuth</c>),
/// raise-for-status <see cref="RaiseForStatusOperator.Check"/> (also <c>RaiseForStatus</c>). Fused rather than
/// chained as operators, a plain request costs this object and the exchange's state machine instead of about twenty
/// operator observables, sinks and disposables, which was most of RxHttp's per-request overhead.
/// Emits at most one response, then completes: a hop that emits more (a middleware) has the rest released. When the
/// subscription has ended, an unread body is kept in memory, bounded (<see cref="ClientResponse.OnSubscriptionEnded"/>).
/// </summary>
internal sealed class RequestCall : TotalDeadline, IDisposable
{
    private readonly CallPlan _plan;
    // Let go of once the response is delivered: the call lives on in the timer wheel until the body ends, and the
    // observer (an awaiter, say) would keep the response from being collected by its guard.
    private IObserver<ClientResponse> _observer;
    private readonly Func<ClientResponse, bool>? _raise;
    private readonly bool _traced; // the session's call reports the request's outcome and its direct hops to the plan's tracer
    private bool _streaming; // RequestOptions.StreamResponse: an unread body stays on its connection for a later read

    // All under Gate (TotalDeadline's, with Finished).
    private int _hop; // the current hop: messages of earlier ones are ignored
    private IDisposable? _current; // the hop's subscription (handler hops)
    private CancellationTokenSource? _cts; // the exchange's cancellation (direct hops)

    private ClientRequest _request; // the current hop's request as the redirect loop sees it (before auth and cookies)
    private List<ClientResponse>? _history;
    private ValueTask<ClientResponse> _pending;
    private int _pendingHop;
    private Action? _onPending;
    private HopTelemetry? _hopTelemetry; // the direct hop's spans and metrics while it runs (traced requests only)

    // Every hop's request carries the first one's plan, and so its tracer.
    private RequestTracer? Tracer => _traced ? Volatile.Read(ref _request).Plan.Tracer : null;

    private RequestCall(CallPlan plan, ClientRequest request, IObserver<ClientResponse> observer, Func<ClientResponse, bool>? raise, bool traced)
    {
        _plan = plan;
        _request = request;
        _observer = observer;
        _raise = raise;
        _traced = traced;
    }

    /// <summary>
    /// Sends <paramref name="request"/> and reports its response to <paramref name="observer"/>; the result disposes
    /// the call (cancels it until the response is delivered). With <paramref name="total"/> active the Total timer
    /// runs on <paramref name="scheduler"/> from now until the response's body is released.
    /// </summary>
    public static IDisposable Start(CallPlan plan, ClientRequest request, IObserver<ClientResponse> observer,
        Func<ClientResponse, bool>? raise = null, bool traced = false,
        TimeSpan? total = null, TimeSpan ceilThreshold = default, IScheduler? scheduler = null, bool streamResponse = false)
    {
        var call = new RequestCall(plan, request, observer, raise, traced) { _streaming = streamResponse };
        if (scheduler is not null && ClientTimeout.Active(total) is { } delay) call.Arm(scheduler, delay, ceilThreshold);
        call.Send(request);
        return call;
    }

    private void Send(ClientRequest request)
    {
        int index;
        IDisposable? previous;
        lock (Gate)
        {
            if (Finished) return;
            _request = request;
            index = ++_hop;
            previous = _current;
            _current = null;
        }
        // The hop that answered with a redirect is done with: a handler hop that has not completed (a middleware's
        // own observable) is unsubscribed as the next one starts, rather than kept until the request ends.
        previous?.Dispose();
        var sent = request;
        try
        {
            if (_plan.Auth) sent = BasicAuthOperator.WithAuthorization(sent);
            if (_plan.Jar is { } jar) sent = CookiesOperator.WithCookieHeader(sent, jar, mark: _plan.JarPerExchange);
        }
        catch (Exception e)
        {
            Fail(index, e);
            return;
        }
        if (_plan.Hop is { } hop) SendThrough(hop, sent, index);
        else SendDirect(sent, index);
    }

    private void SendThrough(RequestHandler hop, ClientRequest request, int index)
    {
        IObservable<ClientResponse> source;
        try
        {
            source = hop(request);
        }
        catch (Exception e)
        {
            Fail(index, e);
            return;
        }
        var subscription = source.Subscribe(new HopObserver(this, index));
        bool keep;
        lock (Gate)
        {
            keep = !Finished && _hop == index;
            if (keep) _current = subscription;
        }
        if (!keep) subscription.Dispose();
    }

    // The exchange without an observable in between: its ValueTask is awaited by this object (a cached
    // continuation), so the state machine box goes back to its pool and nothing else is allocated.
    private void SendDirect(ClientRequest request, int index)
    {
        var cts = RxAsync.CtsCache.Rent();
        lock (Gate)
        {
            if (Finished)
            {
                RxAsync.CtsCache.Return(cts);
                return;
            }
            _cts = cts;
        }
        ValueTask<ClientResponse> pending;
        var previous = _traced ? Activity.Current : null;
        try
        {
            // Traced, the hop starts here as TraceHops starts a handler's (its span current while the exchange starts).
            if (Tracer is { } tracer) Volatile.Write(ref _hopTelemetry, tracer.StartHop(ref request));
            pending = _plan.Exchange!.SendAsync(request, cts.Token);
        }
        catch (Exception e)
        {
            OnExchangeDone(index, null, e);
            return;
        }
        finally
        {
            if (_traced && !ReferenceEquals(Activity.Current, previous)) Activity.Current = previous is { IsStopped: false } ? previous : null;
        }
        if (pending.IsCompleted)
        {
            Complete(index, pending);
            return;
        }
        _pending = pending;
        _pendingHop = index;
        pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onPending ??= OnPending);
    }

    private void OnPending()
    {
        // The exchange's completion, on a pool or socket thread: requests Merge subscribes from here start once it returns.
        using var scope = CompletionScope.Enter();
        var pending = _pending;
        _pending = default;
        Complete(_pendingHop, pending);
    }

    private void Complete(int index, ValueTask<ClientResponse> pending)
    {
        ClientResponse? response = null;
        Exception? error = null;
        try
        {
            response = pending.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            error = e;
        }
        OnExchangeDone(index, response, error);
    }

    private void OnExchangeDone(int index, ClientResponse? response, Exception? error)
    {
        CancellationTokenSource? cts;
        lock (Gate)
        {
            cts = _cts;
            _cts = null;
        }
        // Null: a disposal took it (and cancelled it); else nobody can cancel it any more and the next request may reuse it.
        if (cts is not null) RxAsync.CtsCache.Return(cts);
        Interlocked.Exchange(ref _hopTelemetry, null)?.End(response, error);
        if (response is not null) OnHopNext(index, response);
        else Fail(index, error!);
    }

    private void OnHopNext(int index, ClientResponse response)
    {
        bool current;
        lock (Gate) current = !Finished && _hop == index;
        if (!current)
        {
            response.Release();
            return;
        }
        if (_plan.Jar is { } jar && !_plan.JarPerExchange)
        {
            try
            {
                CookiesOperator.Store(response, jar);
            }
            catch (Exception e)
            {
                response.Release();
                Fail(index, e);
                return;
            }
        }
        if (_plan.Redirects.AllowRedirects)
        {
            Exception? failure;
            ClientRequest? next;
            try
            {
                failure = RedirectsOperator.Step(_request, response, _plan.Redirects, ref _history, out next);
            }
            catch (Exception e)
            {
                response.Release();
                Fail(index, e);
                return;
            }
            if (failure is not null)
            {
                Fail(index, failure);
                return;
            }
            if (next is not null)
            {
                Send(next);
                return;
            }
            response.History = _history is null ? Array.Empty<ClientResponse>() : _history.ToArray();
        }
        if (_raise is not null && RaiseForStatusOperator.Check(response, _raise) is { } raised)
        {
            Fail(index, raised);
            return;
        }
        IDisposable? subscription;
        lock (Gate)
        {
            if (Finished || _hop != index)
            {
                subscription = null;
                current = false;
            }
            else
            {
                Finished = true;
                Deliver(response);
                subscription = _current;
                _current = null;
            }
        }
        if (!current)
        {
            response.Release();
            return;
        }
        // From here the Total timer bounds the body: it stops when the response's connection is released.
        HandOver(response);
        Tracer?.Emit(TraceEventKind.RequestEnd, response: response);
        if (_streaming) response.KeepStreaming();
        var observer = _observer;
        _observer = Delivered.Instance;
        try
        {
            observer.OnNext(response);
            observer.OnCompleted();
        }
        finally
        {
            // The subscription has ended: a body nobody took is kept in memory (bounded), so a response an operator
            // dropped (Where, Take, ...) holds no connection. An awaiting caller's awaiter
            // does this itself once its continuation has run (ObservableAwaiter).
            if (observer is not ObservableAwaiter<ClientResponse>) response.OnSubscriptionEnded();
        }
        subscription?.Dispose();
    }

    // A hop that ends without a final response (a middleware that returned nothing): the request has none either.
    private void OnHopCompleted(int index)
    {
        lock (Gate)
        {
            if (Finished || _hop != index) return;
            Finished = true;
            _current = null;
        }
        StopTimer();
        EndHopCancelled();
        // Traces see every request end: one whose middleware gave no response ends as abandoned, as a disposed one
        // does. Without it a consumer pairing starts with ends (SessionLogging) kept the start for good.
        Tracer?.Emit(TraceEventKind.RequestException, error: new OperationCanceledException("The request ended without a response: a middleware completed without one."));
        _observer.OnCompleted();
    }

    private void Fail(int index, Exception error)
    {
        IDisposable? subscription;
        lock (Gate)
        {
            if (Finished || _hop != index) return;
            Finished = true;
            subscription = _current;
            _current = null;
        }
        StopTimer();
        Tracer?.Emit(TraceEventKind.RequestException, error: error);
        _observer.OnError(error);
        subscription?.Dispose();
    }

    protected override void OnDeadline(TotalTimeoutError error)
    {
        IDisposable? subscription;
        CancellationTokenSource? cts;
        lock (Gate)
        {
            subscription = _current;
            _current = null;
            cts = _cts;
            _cts = null;
        }
        subscription?.Dispose();
        cts?.Cancel();
        EndHopCancelled();
        Tracer?.Emit(TraceEventKind.RequestException, error: error);
        _observer.OnError(error);
    }

    public void Dispose()
    {
        IDisposable? subscription;
        CancellationTokenSource? cts;
        lock (Gate)
        {
            if (Finished) return;
            Finished = true;
            subscription = _current;
            _current = null;
            cts = _cts;
            _cts = null;
        }
        StopTimer();
        subscription?.Dispose();
        cts?.Cancel();
        EndHopCancelled();
        // As aiohttp reports a cancelled request (CancelledError) to on_request_exception: traces see every request end.
        Tracer?.Emit(TraceEventKind.RequestException, error: new OperationCanceledException("The request was cancelled: its subscription was disposed before the response arrived."));
    }

    // A direct hop cut short (disposal, Total timeout): its span and metrics end as cancelled, as TracedHop's do.
    private void EndHopCancelled() => Interlocked.Exchange(ref _hopTelemetry, null)?.End(null, null, cancelled: true);

    // Stands in for the observer once it got its response (nothing reaches it after that).
    private sealed class Delivered : IObserver<ClientResponse>
    {
        public static readonly Delivered Instance = new();
        public void OnNext(ClientResponse value) { }
        public void OnError(Exception error) { }
        public void OnCompleted() { }
    }

    private sealed class HopObserver(RequestCall call, int index) : IObserver<ClientResponse>
    {
        public void OnNext(ClientResponse value) => call.OnHopNext(index, value);
        public void OnError(Exception error) => call.Fail(index, error);
        public void OnCompleted() => call.OnHopCompleted(index);
    }
}
