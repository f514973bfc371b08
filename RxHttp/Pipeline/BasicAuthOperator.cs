namespace RxHttp;

/// <summary>Basic authentication as a per-hop operator.</summary>
public static class BasicAuthOperator
{
    /// <summary>
    /// For each hop: credentials in the hop's URL win (and are removed from the URL that is sent), else the
    /// request's <see cref="RequestOptions.Auth"/> (or the session's) when the session sent it; an explicit
    /// Authorization header is left alone. A redirect that crossed origins has dropped those, so credentials never
    /// leak to another origin.
    /// </summary>
    public static RequestHandler WithBasicAuth(this RequestHandler hop)
    {
        ArgumentNullException.ThrowIfNull(hop);
        return request => new AuthHop(hop, request);
    }

    // Deferred like Observable.Defer, as one object per hop; a request without credentials passes straight through.
    private sealed class AuthHop(RequestHandler hop, ClientRequest request) : IObservable<ClientResponse>
    {
        public IDisposable Subscribe(IObserver<ClientResponse> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            IObservable<ClientResponse> source;
            try
            {
                source = hop(WithAuthorization(request));
            }
            catch (Exception e)
            {
                observer.OnError(e);
                return System.Reactive.Disposables.Disposable.Empty;
            }
            return source.Subscribe(observer);
        }
    }

    /// <summary>
    /// Refuses URL credentials whose user name holds a ':' (written "%3A"): they become Basic, whose login cannot
    /// hold one (RFC 7617), so the URL is at fault, not an argument deep inside (aiohttp raises ValueError).
    /// </summary>
    /// <param name="url">The URL whose credentials would be sent.</param>
    /// <param name="shown">The URL as the error shows it.</param>
    internal static void RequireSendableUser(Url url, string shown)
    {
        if (url.User is { } user && user.Contains(':'))
            throw new InvalidUrlClientError(shown, "a ':' in the user name cannot be sent as Basic credentials (RFC 7617)");
    }

    internal static ClientRequest WithAuthorization(ClientRequest request)
    {
        var auth = BasicAuth.FromUrl(request.Url);
        auth ??= request.Plan.Auth;
        if (auth is null && request.Url.User is null) return request;
        var headers = request.Headers.Clone();
        if (auth is not null && !headers.Contains("Authorization")) headers.Set("Authorization", auth.Encode());
        return request.With(url: request.Url.WithoutCredentials(), headers: headers);
    }
}
