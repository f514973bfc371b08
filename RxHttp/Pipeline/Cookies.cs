using System.Reactive.Linq;

namespace RxHttp;

/// <summary>The cookie jar as a per-hop operator.</summary>
public static class CookiesOperator
{
    /// <summary>
    /// For each hop: sends the jar's cookies for the hop's URL plus the per-request cookies (which override
    /// same-named jar cookies and are never stored), appended to any explicit Cookie header; then stores the
    /// response's Set-Cookie headers in the jar against the hop's URL and fills <see cref="ClientResponse.Cookies"/>.
    /// </summary>
    public static RequestHandler WithCookies(this RequestHandler hop, AbstractCookieJar jar)
    {
        ArgumentNullException.ThrowIfNull(hop);
        ArgumentNullException.ThrowIfNull(jar);
        return request => new CookieHop(hop, jar, request);
    }

    // Deferred like Observable.Defer (the jar is read at subscription), as one object per hop plus one observer.
    private sealed class CookieHop(RequestHandler hop, AbstractCookieJar jar, ClientRequest request, bool refresh = false) : IObservable<ClientResponse>
    {
        public IDisposable Subscribe(IObserver<ClientResponse> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            IObservable<ClientResponse> source;
            try
            {
                source = hop(refresh ? Refreshed(request, jar) : WithCookieHeader(request, jar));
            }
            catch (Exception e)
            {
                observer.OnError(e);
                return System.Reactive.Disposables.Disposable.Empty;
            }
            return source.Subscribe(new StoreSetCookies(observer, jar));
        }
    }

    /// <param name="request">The hop's request.</param>
    /// <param name="jar">The jar to read.</param>
    /// <param name="mark">Record the header before and after (<see cref="ClientRequest.JarCookie"/>) for <see cref="PerExchange"/>.</param>
    internal static ClientRequest WithCookieHeader(ClientRequest request, AbstractCookieJar jar, bool mark = false)
    {
        // The request's own (RequestOptions.Cookies), which a cross-origin redirect has dropped from its plan.
        var own = request.Plan.Cookies;
        // An empty jar (the common case for API clients) costs no System.Uri and no list per hop.
        var empty = jar.Count == 0;
        if (own is null && empty) return mark ? Marked(request, request.Headers, request.Headers.Get("Cookie")) : request;
        var pairs = empty
            ? new List<KeyValuePair<string, string>>()
            : new List<KeyValuePair<string, string>>(jar.FilterCookies(request.Url.ToUri()));
        if (own is not null)
        {
            foreach (var (name, value) in own)
            {
                pairs.RemoveAll(kv => kv.Key == name);
                pairs.Add(new(name, CodedValue(value, jar.QuoteCookie)));
            }
        }
        var before = request.Headers.Get("Cookie");
        if (pairs.Count == 0) return mark ? Marked(request, request.Headers, before) : request;
        var headers = request.Headers.Clone();
        AppendCookieHeader(headers, pairs);
        return mark ? Marked(request, headers, before) : request.With(headers: headers);
    }

    private static ClientRequest Marked(ClientRequest request, HeaderCollection headers, string? before)
    {
        var marked = request.WithHopHeaders(headers);
        marked.JarCookie = (before, headers.Get("Cookie"));
        return marked;
    }

    /// <summary>
    /// The innermost step under the session's middlewares: stores each exchange's Set-Cookie (a 401 or 503 that a
    /// middleware answers or retries never reaches the hop's own step) and, on a resend whose Cookie header is still
    /// the one the hop's jar step wrote, sends the jar's cookies as they are now. A Cookie header a middleware wrote
    /// itself is left alone.
    /// </summary>
    internal static RequestHandler PerExchange(this RequestHandler exchange, AbstractCookieJar jar) => request =>
        new CookieHop(exchange, jar, request, refresh: true);

    private static ClientRequest Refreshed(ClientRequest request, AbstractCookieJar jar)
    {
        if (request.JarCookie is not { } applied || request.Headers.Get("Cookie") != applied.After) return request;
        // The first exchange of a hop: what the hop's step just wrote is current.
        if (jar.Count == 0 && request.Plan.Cookies is null && applied.Before == applied.After) return request;
        var headers = request.Headers.Clone();
        if (applied.Before is null) headers.Remove("Cookie");
        else headers.Set("Cookie", applied.Before);
        return WithCookieHeader(request.WithHopHeaders(headers), jar, mark: true);
    }

    /// <summary>Appends <paramref name="pairs"/> to the Cookie header a caller may have set (HTTP requests and websocket handshakes alike).</summary>
    internal static void AppendCookieHeader(HeaderCollection headers, IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var cookie = string.Join("; ", pairs.Select(kv => kv.Key + "=" + kv.Value));
        var existing = headers.Get("Cookie");
        headers.Set("Cookie", string.IsNullOrEmpty(existing) ? cookie : existing + "; " + cookie);
    }

    // Stores each response's Set-Cookie headers in the jar (against the hop's URL) before passing it on.
    private sealed class StoreSetCookies(IObserver<ClientResponse> observer, AbstractCookieJar jar) : IObserver<ClientResponse>
    {
        private bool _failed;

        public void OnNext(ClientResponse response)
        {
            if (_failed) return;
            try
            {
                Store(response, jar);
            }
            catch (Exception e)
            {
                // As Do: a failing side effect fails the sequence (and the response is not handed out).
                _failed = true;
                response.Release();
                observer.OnError(e);
                return;
            }
            observer.OnNext(response);
        }

        public void OnError(Exception error)
        {
            if (!_failed) observer.OnError(error);
        }

        public void OnCompleted()
        {
            if (!_failed) observer.OnCompleted();
        }
    }

    /// <summary>Stores the response's Set-Cookie headers in the jar against its URL and fills <see cref="ClientResponse.Cookies"/>.</summary>
    internal static void Store(ClientResponse response, AbstractCookieJar jar)
    {
        var setCookies = response.Headers.GetAll("Set-Cookie");
        if (setCookies.Count == 0) return;
        jar.UpdateCookies(setCookies, response.Url.ToUri());
        response.Cookies = ParseOwn(setCookies);
    }

    private static ResponseCookies ParseOwn(IReadOnlyList<string> setCookies)
    {
        var result = new Dictionary<string, Morsel>(StringComparer.Ordinal);
        foreach (var header in setCookies)
            if (SetCookieParser.Parse(header) is { } c) result[c.Name] = new Morsel(c);
        return new ResponseCookies(result);
    }

    // The jar's rule for preloaded values (Python's SimpleCookie quoting), so a value goes out the same whether it
    // is preloaded or per request; unquoted, a ';' or a control would end the pair and inject cookies of its own.
    private static string CodedValue(string value, bool quote)
    {
        if (quote) return CookieJar.Quote(value);
        if (!SetCookieParser.IsValidValue(value))
            throw new ArgumentException("A per-request cookie value holds ';' or a control character, which the jar's QuoteCookie = false cannot send.", "options");
        return value;
    }
}
