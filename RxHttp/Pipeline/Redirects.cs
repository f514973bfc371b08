namespace RxHttp;

/// <summary>Settings of the redirect operator.</summary>
/// <param name="AllowRedirects">Follow 301, 302, 303, 307 and 308.</param>
/// <param name="MaxRedirects">Most hops; one more raises <see cref="TooManyRedirects"/>.</param>
public sealed record RedirectOptions(bool AllowRedirects = true, int MaxRedirects = 10)
{
    /// <summary>Requote the Location URL (default true); false follows it byte for byte (aiohttp's <c>requote_redirect_url</c>).</summary>
    public bool RequoteRedirectUrl { get; init; } = true;
}

/// <summary>Redirect following as an operator over a <see cref="RequestHandler"/>.</summary>
public static class RedirectsOperator
{
    private static readonly string[] CrossOriginDrop = { "Authorization", "Cookie", "Proxy-Authorization" };

    /// <summary>
    /// Removes the credentials and cookies given as headers, which stay with the origin they were given for; a
    /// redirect's hop to another origin (a request's or a websocket handshake's) sends its own.
    /// </summary>
    internal static void DropCrossOrigin(HeaderCollection headers)
    {
        foreach (var h in CrossOriginDrop) headers.Remove(h);
    }

    // RFC 9110 §15.4 step 5: a request turned into GET loses the content-specific fields with its body (its list,
    // the framing fields, and RFC 9530's successors of Digest).
    private static readonly string[] BodyHeaders =
    {
        "Content-Length", "Content-Type", "Transfer-Encoding", "Content-Encoding", "Content-Language", "Content-Location",
        "Digest", "Last-Modified", "Content-Digest", "Repr-Digest",
    };

    /// <summary>
    /// Follows redirects the way aiohttp does: 303 becomes GET (HEAD stays HEAD), 301/302 turn POST into GET
    /// without its body, 307/308 keep method and body (a body that cannot be sent twice is a
    /// <see cref="ClientPayloadError"/>). A relative Location is joined; a non-http(s) one raises
    /// <see cref="NonHttpUrlRedirectClientError"/>; a missing or empty one makes the 3xx final. On a cross-origin hop,
    /// Authorization, Cookie and Proxy-Authorization are dropped together with the per-request auth and cookies, and on
    /// a hop to another host a Host header given by the caller; credentials in the Location URL are used for the next
    /// hop. A Location without a fragment keeps the request's (RFC 9110 §10.2.2), which
    /// <see cref="ClientResponse.RealUrl"/> shows. The final response's History lists the hops; more than
    /// <see cref="RedirectOptions.MaxRedirects"/> raises <see cref="TooManyRedirects"/> carrying them.
    /// </summary>
    public static RequestHandler FollowRedirects(this RequestHandler hop, RedirectOptions options)
    {
        ArgumentNullException.ThrowIfNull(hop);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRedirects, nameof(options));
        if (!options.AllowRedirects) return hop;
        var plan = new CallPlan(hop, null, Jar: null, Auth: false, options);
        return request => new RedirectObservable(plan, request);
    }

    private sealed class RedirectObservable(CallPlan plan, ClientRequest request) : IObservable<ClientResponse>
    {
        public IDisposable Subscribe(IObserver<ClientResponse> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            return RequestCall.Start(plan, request, observer);
        }
    }

    /// <summary>
    /// One step of the redirect loop for the response to <paramref name="request"/>. Null and no next request: the
    /// response is final. A next request: follow it (the response was added to <paramref name="history"/> and
    /// released). An exception: the failure (the response was released).
    /// </summary>
    internal static Exception? Step(ClientRequest request, ClientResponse response, RedirectOptions options, ref List<ClientResponse>? history, out ClientRequest? nextRequest)
    {
        nextRequest = null;
        if (response.Status is not (301 or 302 or 303 or 307 or 308)) return null;
        // An empty Location counts as none (aiohttp's "Location or URI", HttpClient): taken as the empty reference it
        // would send the same request again until MaxRedirects.
        var location = LocationOf(response.Headers);
        if (location is null) return null;

        history ??= new List<ClientResponse>();
        history.Add(response);
        if (history.Count > options.MaxRedirects)
        {
            response.Release();
            return new TooManyRedirects(response.RequestInfo, history.ToArray(), response.Status, "Too many redirects", response.Headers);
        }

        Url next, withFragment;
        try
        {
            // aiohttp's requote_redirect_url: false takes the Location as encoded, byte for byte.
            var target = Url.Parse(location, encoded: !options.RequoteRedirectUrl);
            if (target.IsAbsolute && target.Scheme is not ("http" or "https"))
            {
                response.Release();
                return new NonHttpUrlRedirectClientError(location);
            }
            withFragment = request.Url.Join(target);
            // RFC 9110 §10.2.2: a Location without a fragment inherits the one of the URL that was redirected.
            if (target.RawFragment is null && request.OriginalUrl.RawFragment is { } inherited) withFragment = withFragment.WithRawFragment(inherited);
            next = withFragment.WithoutFragment();
            next.RequireHttp(allowWebSocket: false);
            // For a Location that is the server's error, so it is reported as one.
            BasicAuthOperator.RequireSendableUser(target, location);
        }
        catch (InvalidUrl e) when (e is not NonHttpUrlRedirectClientError)
        {
            response.Release();
            return new InvalidUrlRedirectClientError(location, e.Description);
        }

        var method = request.Method;
        var body = request.Body;
        var headers = request.Headers.Clone();
        var dropBody = false;
        if ((response.Status == 303 && method != "HEAD") || (response.Status is 301 or 302 && method == "POST"))
        {
            method = "GET";
            dropBody = true;
            foreach (var h in BodyHeaders) headers.Remove(h);
            // RFC 9110 §10.1.1: a client MUST NOT send 100-continue without content (the caller's own header; the
            // Expect100 option is decided per hop by the body).
            if (headers.Get("Expect") is { } expect && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase)) headers.Remove("Expect");
        }
        // A body held for 100 Continue that the redirect came before is still whole, one-shot or not (S3's 307 to its region).
        else if (body is not null && !body.IsReplayable && !response.RequestBodyUnsent)
        {
            response.Release();
            return new ClientPayloadError(
                $"Cannot follow the {response.Status} redirect to {next}: the request body is a stream that cannot be sent twice.");
        }
        var crossOrigin = !next.IsSameOrigin(request.Url);
        // Credentials given in the URL are the request's, as an Auth is: a same-origin hop keeps them whether the
        // Location is relative (the join keeps them) or absolute (it has none of its own), unless it brings its own.
        if (!crossOrigin) next = WithSameOriginCredentials(next, request.Url);
        if (crossOrigin) DropCrossOrigin(headers);
        // A caller's Host names the first host (a virtual host reached by address, say); sent to another host it would
        // name the wrong one, so that hop gets its own (curl drops a custom Host the same way).
        if (!string.Equals(next.Host, request.Url.Host, StringComparison.OrdinalIgnoreCase)) headers.Remove("Host");
        request.Plan.Tracer?.Emit(TraceEventKind.RequestRedirect, request, response);
        response.Release();
        nextRequest = request.With(method, next, headers, dropBody: dropBody);
        nextRequest.SetOriginalUrl(withFragment);
        // Per-request credentials and cookies were meant for the first origin only (aiohttp drops auth too).
        if (crossOrigin) nextRequest.Plan = nextRequest.Plan.CrossOrigin(next);
        return null;
    }

    /// <summary>Where a 3xx points: Location, else URI; null when both are missing or empty (the 3xx is then final).</summary>
    internal static string? LocationOf(HeaderCollection headers) => NonEmpty(headers.Get("Location")) ?? NonEmpty(headers.Get("URI"));

    /// <summary><paramref name="next"/>, a hop on the origin of <paramref name="from"/>, with its URL credentials unless it brings its own.</summary>
    internal static Url WithSameOriginCredentials(Url next, Url from) =>
        next.User is null && from.User is not null ? next.WithCredentialsOf(from) : next;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
