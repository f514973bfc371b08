namespace RxHttp;

/// <summary>
/// What the session decided for one request beyond its method, URL, headers and body, typed, for the engine to read:
/// the exchange (proxy, <c>Expect: 100-continue</c>, upload progress, Content-Type), the per-hop steps (Basic
/// credentials, per-request cookies) and the tracer. Built once by the session's <c>RequestPlanBuilder</c>; never
/// changed afterwards, so a copy of the request (<see cref="ClientRequest.With"/>, a redirect hop, a hop with trace
/// headers) shares it and a step that changes something makes a new one (a cross-origin redirect drops the
/// credentials and cookies). Most requests set none of it and share <see cref="None"/>.
/// </summary>
internal sealed record RequestPlan
{
    /// <summary>Nothing special: the plan of the usual request, and of a request made by hand.</summary>
    public static readonly RequestPlan None = new();

    /// <summary><see cref="RequestOptions.Proxy"/> with its credentials and headers; null: the session's default proxy, if any.</summary>
    public ProxySettings? Proxy { get; init; }

    /// <summary><see cref="RequestOptions.Expect100"/>: the exchange adds <c>Expect: 100-continue</c> and holds the body back.</summary>
    public bool Expect100 { get; init; }

    /// <summary>How long the held body waits for the server's answer before it goes anyway (infinite: until the answer).</summary>
    public TimeSpan Expect100Timeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary><see cref="RequestOptions.UploadProgress"/>.</summary>
    public IObserver<TransferProgress>? UploadProgress { get; init; }

    /// <summary>Content-Type is among the skipped auto headers: the exchange does not add the body's own.</summary>
    public bool SkipContentType { get; init; }

    /// <summary>Basic credentials the per-hop auth step turns into Authorization (the request's, the session's or netrc's).</summary>
    public BasicAuth? Auth { get; init; }

    /// <summary><see cref="RequestOptions.Cookies"/>: sent on every hop over the jar's, never stored.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Cookies { get; init; }

    /// <summary>Where the request reports what happens to it; null while nothing listens.</summary>
    public RequestTracer? Tracer { get; init; }

    /// <summary>
    /// <see cref="ClientSessionOptions.TrustEnv"/>'s netrc look-up (host to credentials): a hop to another origin takes
    /// its host's entry, as aiohttp looks one up for every request it sends, redirected ones included. Null: none.
    /// </summary>
    public Func<string, BasicAuth?>? NetrcFor { get; init; }

    /// <summary>
    /// The plan of a hop that left the first origin for <paramref name="next"/>: per-request credentials and cookies stay
    /// behind (as aiohttp's); with <see cref="NetrcFor"/> the new host's netrc entry, if any, stands in.
    /// </summary>
    public RequestPlan CrossOrigin(Url next)
    {
        var netrc = NetrcFor?.Invoke(next.Host);
        return Auth is null && Cookies is null && netrc is null ? this : this with { Auth = netrc, Cookies = null };
    }
}
