using System.Reactive.Linq;

namespace RxHttp;

/// <summary>Middlewares (aiohttp 3.12's client middlewares) as an operator.</summary>
public static class MiddlewaresOperator
{
    /// <summary>
    /// Wraps <paramref name="hop"/> in <paramref name="middlewares"/>, the first outermost. Each gets the request
    /// and the next handler; it may change the request, call next zero, one or several times (retry, auth
    /// challenges), and map the response. The session applies them per hop, inside the redirect loop.
    /// </summary>
    public static RequestHandler WithMiddlewares(this RequestHandler hop,
        IEnumerable<Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>>>? middlewares)
    {
        ArgumentNullException.ThrowIfNull(hop);
        if (middlewares is null) return hop;
        var list = middlewares.ToList();
        if (list.Any(m => m is null)) throw new ArgumentException("A middleware is null.", nameof(middlewares));
        var handler = hop;
        for (var i = list.Count - 1; i >= 0; i--)
        {
            var middleware = list[i];
            var next = handler;
            Func<ClientRequest, IObservable<ClientResponse>> nextFunc = r => next(r);
            // Defer so a middleware that throws while building its observable fails that subscription only.
            handler = request => Observable.Defer(() => middleware(request, nextFunc));
        }
        return handler;
    }
}
