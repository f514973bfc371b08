using System.Reactive.Linq;

namespace RxHttp;

/// <summary>Turning error statuses into <see cref="ClientResponseError"/> as an operator.</summary>
public static class RaiseForStatusOperator
{
    /// <summary>
    /// Fails with <see cref="ClientResponseError"/> (status, reason, headers, history) for each response
    /// <paramref name="predicate"/> picks (default: status 400 and above); the response is released first.
    /// </summary>
    public static IObservable<ClientResponse> RaiseForStatus(this IObservable<ClientResponse> source, Func<ClientResponse, bool>? predicate = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        predicate ??= r => !r.Ok;
        return source.Select(response =>
        {
            bool raise;
            try
            {
                raise = predicate(response);
            }
            catch
            {
                response.Release();
                throw;
            }
            if (!raise) return response;
            response.Release();
            throw new ClientResponseError(response.RequestInfo, response.History, response.Status, response.Reason, response.Headers);
        });
    }
}
