using System.Reactive.Concurrency;

namespace RxHttp;

/// <summary>
/// A websocket handshake reported as the GET it is, through the request's own <see cref="RequestTracer"/> (and so
/// its <see cref="RequestTelemetry"/>): a span and the request metrics per hop, trace context injected, and the
/// trace stream's events in aiohttp's order, whose ws_connect is a request() followed by the upgrade's checks
/// (HttpClient's ClientWebSocket sends its handshake through DiagnosticsHandler likewise). Every hop ends when
/// its answer is judged, before the websocket is made, so the span covers the handshake and not the connection's
/// life, and the websocket's own work does not run under a span that has ended.
/// </summary>
internal sealed class WsHandshakeTrace(RequestTracer tracer)
{
    private ClientRequest? _request;
    private HopTelemetry? _hop;
    private ClientResponse? _answer; // the current hop's response head, once read
    private bool _done;

    /// <summary>
    /// A hop begins (RequestStart on the first, as for any request): returns the headers to send, with the
    /// span's trace context added unless the caller set those headers.
    /// </summary>
    public HeaderCollection StartHop(Url target, HeaderCollection headers, IScheduler scheduler)
    {
        var request = new ClientRequest("GET", target, headers) { Scheduler = scheduler };
        _answer = null;
        _hop = tracer.StartHop(ref request);
        _request = request;
        return request.Headers;
    }

    /// <summary>The connection events of the current hop, for <see cref="ConnectorTrace.Current"/>.</summary>
    public Action<ConnectorTraceKind> OnConnector => tracer.OnConnector;

    /// <summary>The head went out: <paramref name="sent"/> is every header line written, Host and proxy ones included.</summary>
    public void HeadersSent(List<KeyValuePair<string, string>> sent)
    {
        if (tracer.Listening) tracer.Emit(TraceEventKind.RequestHeadersSent, _request, headers: new HeaderCollection(sent));
    }

    /// <summary>The answer's head was read (a 101 still to be checked, a redirect or a refusal).</summary>
    public void Answered(int status, string reason, Version version, HeaderCollection headers, RequestInfo info) =>
        _answer = new ClientResponse(status, reason, version, headers, info, connection: null, body: null, autoDecompress: false, JsonDefaults.Web);

    /// <summary>The 101 passed every check: the hop's span ends with it, and the request with RequestEnd.</summary>
    public void Connected()
    {
        if (_done) return;
        _done = true;
        Interlocked.Exchange(ref _hop, null)?.End(_answer, null);
        tracer.Emit(TraceEventKind.RequestEnd, _request, _answer);
    }

    /// <summary>The answer is a redirect that is followed (aiohttp reports it before it counts the hop against the limit).</summary>
    public void Redirected()
    {
        var answer = _answer;
        _answer = null;
        Interlocked.Exchange(ref _hop, null)?.End(answer, null);
        tracer.Emit(TraceEventKind.RequestRedirect, _request, answer);
    }

    /// <summary>
    /// The handshake failed. A refused upgrade (an answer other than a valid 101) is an error of the span, yet for
    /// the trace stream the request itself ended with that answer: aiohttp's request() returned it and fired
    /// on_request_end before ws_connect raised. Anything else, cancellation included, is a RequestException.
    /// </summary>
    public void Failed(Exception error)
    {
        if (_done) return;
        _done = true;
        // A disposal or the Total deadline cuts the hop short: reported as cancelled, as a request's hop is.
        var cancelled = error is OperationCanceledException or TotalTimeoutError;
        var answer = _answer;
        Interlocked.Exchange(ref _hop, null)?.End(answer, cancelled ? null : error, cancelled);
        if (error is WsServerHandshakeError && answer is not null) tracer.Emit(TraceEventKind.RequestEnd, _request, answer);
        else tracer.Emit(TraceEventKind.RequestException, _request, error: error);
    }
}
