using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace RxHttp;

public sealed partial class ClientSession
{
    private readonly Subject<TraceEvent> _trace = new();
    private long _requestIds;

    /// <summary>The cookie store every hop reads from and writes to.</summary>
    public AbstractCookieJar CookieJar { get; }

    /// <summary>
    /// aiohttp's trace signals as one hot stream: every request of this session reports its events here
    /// (<see cref="TraceEventKind"/>), tagged with a per-request id. Hot: subscribe before sending to see a
    /// request from its start; events are raised on whichever thread does the work, so keep observers quick.
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
            request = BuildRequest(method, url, options);
        }
        catch (Exception e)
        {
            observer.OnError(e);
            return System.Reactive.Disposables.Disposable.Empty;
        }

        var scheduler = request.Scheduler ?? Scheduler;
        // Tracing costs an execution-context change per request, so it is set up only while someone listens.
        RequestTracer? tracer = null;
        if (_trace.HasObservers)
        {
            tracer = new RequestTracer(_trace, () => _trace.HasObservers, scheduler, Interlocked.Increment(ref _requestIds));
            request.Properties[RequestTracer.Key] = tracer;
        }

        var allow = options.AllowRedirects ?? request.Method != "HEAD";
        var maxRedirects = options.MaxRedirects ?? SessionOptions.MaxRedirects;
        CallPlan plan;
        if (options.Middlewares is null && tracer is null && maxRedirects == SessionOptions.MaxRedirects)
        {
            // The usual request: the plan only depends on whether redirects are followed, so it is built once.
            plan = allow ? _plainFollowing ??= BuildPlan(SessionOptions.Middlewares, false, true, maxRedirects)
                : _plainNotFollowing ??= BuildPlan(SessionOptions.Middlewares, false, false, maxRedirects);
        }
        else
        {
            plan = BuildPlan(options.Middlewares ?? SessionOptions.Middlewares, tracer is not null, allow, maxRedirects);
        }
        return RequestCall.Start(plan, request, observer, RaisePredicate(options), tracer,
            request.Timeout.Total, request.Timeout.CeilThreshold, scheduler, options.StreamResponse ?? SessionOptions.StreamResponse);
    }

    // A response was collected with its body neither read nor released (its guard closed the connection).
    private void ReportUnreleased(RequestInfo request)
    {
        if (_trace.HasObservers) _trace.OnNext(new TraceEvent(TraceEventKind.ResponseUnreleased, 0, Scheduler.Now, request.Method, request.Url));
    }

    private CallPlan? _plainFollowing, _plainNotFollowing;

    // The hop is the bare exchange unless middlewares or hop tracing wrap it as a handler.
    private CallPlan BuildPlan(
        IEnumerable<Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>>>? middlewares,
        bool traced, bool allowRedirects, int maxRedirects)
    {
        RequestHandler? hop = null;
        if (middlewares is not null || traced)
        {
            hop = _exchange.Send;
            hop = hop.WithMiddlewares(middlewares);
            if (traced) hop = hop.TraceHops();
        }
        return new CallPlan(hop, _exchange, CookieJar, Auth: true, new RedirectOptions(allowRedirects, maxRedirects));
    }

    private static readonly Func<ClientResponse, bool> Default = static r => !r.Ok;

    private Func<ClientResponse, bool>? RaisePredicate(RequestOptions options)
    {
        if (options.RaiseForStatusWhen is { } own) return own;
        if (options.RaiseForStatus is { } b) return b ? Default : null;
        return SessionOptions.RaiseForStatusWhen ?? (SessionOptions.RaiseForStatus ? Default : null);
    }

    // aiohttp's rules: URL credentials, else the request's auth, else the session's for its base origin; never two.
    private BasicAuth? SelectAuth(Url url, HeaderCollection headers, RequestOptions options)
    {
        if (options.Auth is not null && url.User is not null)
            throw new ArgumentException("Cannot combine Auth with credentials encoded in the URL.", nameof(options));
        var auth = options.Auth;
        if (auth is null && url.User is null && SessionOptions.Auth is { } sessionAuth && (BaseUrl is null || BaseUrl.Origin == url.Origin))
            auth = sessionAuth;
        if ((auth is not null || url.User is not null) && headers.Contains("Authorization") && (options.Auth is not null || url.User is not null))
            throw new ArgumentException("Cannot combine an Authorization header with Auth or credentials encoded in the URL.", nameof(options));
        return auth;
    }
}
