using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace RxHttp;

public sealed partial class ClientSession
{
    private readonly Subject<TraceEvent> _trace = new();
    // What requests publish to: serialised, so a Trace observer is never called by two requests at once.
    private readonly ISubject<TraceEvent> _traceSink;
    // Completes the trace stream once the session is closed and the requests it aborted have reported their ends.
    private readonly TraceCompletion _traceCompletion;
    private long _requestIds;
    private Func<bool>? _listening;

    /// <summary>The cookie store every hop reads from and writes to.</summary>
    public AbstractCookieJar CookieJar { get; }

    /// <summary>
    /// aiohttp's trace signals as one hot stream: every request of this session reports its events here
    /// (<see cref="TraceEventKind"/>), tagged with a per-request id. Hot: subscribe before sending to see a
    /// request from its start; events are raised on whichever thread does the work, so keep observers quick. Calls to
    /// an observer never overlap: an event raised while another is being delivered is delivered after it. It completes once
    /// the session is closed and the requests the close aborted have reported their ends.
    /// </summary>
    public IObservable<TraceEvent> Trace => _trace.AsObservable();

    // One subscription of a request verb: build the request (a throw goes to OnError, as Observable.Defer would),
    // then run it as one RequestCall. Outermost first: trace outcome → raise for status → Total timeout →
    // redirects → (per hop) auth → cookies → hop trace → middlewares → the exchange.
    internal IDisposable Send(string method, Url url, RequestOptions options, IObserver<ClientResponse> observer)
    {
        ClientRequest request;
        try
        {
            if (Closed) throw new SessionClosedError();
            if (options.MaxRedirects < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxRedirects, "MaxRedirects cannot be negative.");
            request = _plans.Build(method, url, options);
        }
        catch (Exception e)
        {
            observer.OnError(e);
            return System.Reactive.Disposables.Disposable.Empty;
        }

        var scheduler = request.Scheduler ?? Scheduler;
        // Tracing costs an execution-context change per request, so it is set up only while someone listens: to
        // the trace stream, or to the library's ActivitySource or Meter (spans and metrics hang off the same tracer).
        var tracer = NewTracer(scheduler);
        if (tracer is not null) request.Plan = request.Plan with { Tracer = tracer };

        var allow = options.AllowRedirects ?? request.Method != "HEAD";
        var maxRedirects = options.MaxRedirects ?? SessionOptions.MaxRedirects;
        CallPlan plan;
        if (options.Middlewares is null && maxRedirects == SessionOptions.MaxRedirects)
        {
            // The usual request: the plan only depends on whether redirects are followed and whether hops are
            // traced, so each is built once.
            plan = tracer is null
                ? allow ? _plainFollowing ??= BuildPlan(SessionOptions.Middlewares, false, true, maxRedirects)
                    : _plainNotFollowing ??= BuildPlan(SessionOptions.Middlewares, false, false, maxRedirects)
                : allow ? _tracedFollowing ??= BuildPlan(SessionOptions.Middlewares, true, true, maxRedirects)
                    : _tracedNotFollowing ??= BuildPlan(SessionOptions.Middlewares, true, false, maxRedirects);
        }
        else
        {
            plan = BuildPlan(options.Middlewares ?? SessionOptions.Middlewares, tracer is not null, allow, maxRedirects);
        }
        return RequestCall.Start(plan, request, observer, RaisePredicate(options), tracer is not null,
            request.Timeout.Total, request.Timeout.CeilThreshold, scheduler, options.StreamResponse ?? SessionOptions.StreamResponse);
    }

    // Null while nobody listens to the trace stream, the ActivitySource or the Meter. Its telemetry's parent span is
    // the one current now, at the subscription.
    private RequestTracer? NewTracer(System.Reactive.Concurrency.IScheduler scheduler)
    {
        var observed = Telemetry.RequestsObserved;
        if (!observed && !_trace.HasObservers) return null;
        return new RequestTracer(_traceSink, _listening ??= () => _trace.HasObservers, scheduler, Interlocked.Increment(ref _requestIds),
            observed ? new RequestTelemetry(System.Diagnostics.Activity.Current) : null, _traceCompletion);
    }

    // A response was collected with its body neither read nor released (its guard closed the connection).
    private void ReportUnreleased(RequestInfo request)
    {
        if (_trace.HasObservers) RequestTracer.Publish(_traceSink, new TraceEvent(TraceEventKind.ResponseUnreleased, 0, Scheduler.Now, request.Method, request.Url));
    }

    private CallPlan? _plainFollowing, _plainNotFollowing, _tracedFollowing, _tracedNotFollowing;

    // The hop is the bare exchange unless middlewares wrap it as a handler (then traced as one, TraceHops); a bare
    // exchange is traced by the RequestCall itself, which keeps it on the direct path.
    private CallPlan BuildPlan(
        IEnumerable<Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>>>? middlewares,
        bool traced, bool allowRedirects, int maxRedirects)
    {
        RequestHandler? hop = null;
        if (middlewares is not null)
        {
            hop = _exchange.Send;
            // A middleware may send more than once per hop (Digest's answer, a retry): each exchange keeps its
            // Set-Cookie and sends the jar as it is then, as HttpClient's connection-level cookie handling does.
            hop = hop.PerExchange(CookieJar);
            hop = hop.WithMiddlewares(middlewares);
            if (traced) hop = hop.TraceHops();
        }
        return new CallPlan(hop, _exchange, CookieJar, Auth: true, new RedirectOptions(allowRedirects, maxRedirects) { RequoteRedirectUrl = SessionOptions.RequoteRedirectUrl },
            JarPerExchange: hop is not null);
    }

    private static readonly Func<ClientResponse, bool> Default = static r => !r.Ok;

    private Func<ClientResponse, bool>? RaisePredicate(RequestOptions options)
    {
        if (options.RaiseForStatusWhen is { } own) return own;
        if (options.RaiseForStatus is { } b) return b ? Default : null;
        return SessionOptions.RaiseForStatusWhen ?? (SessionOptions.RaiseForStatus ? Default : null);
    }
}
