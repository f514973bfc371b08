namespace RxHttp;

/// <summary>Turning error statuses into <see cref="ClientResponseError"/> as an operator.</summary>
public static class RaiseForStatusOperator
{
    private static readonly Func<ClientResponse, bool> NotOk = static r => !r.Ok;

    /// <summary>
    /// Fails with <see cref="ClientResponseError"/> (status, reason, headers, history) for each response
    /// <paramref name="predicate"/> picks (default: status 400 and above); the response is released first.
    /// </summary>
    public static IObservable<ClientResponse> RaiseForStatus(this IObservable<ClientResponse> source, Func<ClientResponse, bool>? predicate = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new RaiseObservable(source, predicate ?? NotOk);
    }

    private sealed class RaiseObservable(IObservable<ClientResponse> source, Func<ClientResponse, bool> predicate) : IObservable<ClientResponse>
    {
        public IDisposable Subscribe(IObserver<ClientResponse> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            var sink = new Sink(observer, predicate);
            sink.Upstream.Disposable = source.Subscribe(sink);
            return sink.Upstream;
        }
    }

    /// <summary>
    /// The error for a response <paramref name="predicate"/> picks (the response is released first), or null when
    /// it passes; a throwing predicate's exception is the error.
    /// </summary>
    internal static Exception? Check(ClientResponse response, Func<ClientResponse, bool> predicate)
    {
        try
        {
            if (!predicate(response)) return null;
            response.Release();
            return new ClientResponseError(response.RequestInfo, response.History, response.Status, response.Reason, response.Headers);
        }
        catch (Exception e)
        {
            response.Release();
            return e;
        }
    }

    // As Select with a throwing selector: the first raise fails the sequence and unsubscribes from the source.
    private sealed class Sink(IObserver<ClientResponse> observer, Func<ClientResponse, bool> predicate) : IObserver<ClientResponse>
    {
        public readonly System.Reactive.Disposables.SingleAssignmentDisposable Upstream = new();
        private bool _stopped;

        public void OnNext(ClientResponse response)
        {
            if (_stopped)
            {
                response.Release();
                return;
            }
            var error = Check(response, predicate);
            if (error is null)
            {
                observer.OnNext(response);
                return;
            }
            _stopped = true;
            observer.OnError(error);
            Upstream.Dispose();
        }

        public void OnError(Exception error)
        {
            if (_stopped) return;
            _stopped = true;
            observer.OnError(error);
        }

        public void OnCompleted()
        {
            if (_stopped) return;
            _stopped = true;
            observer.OnCompleted();
        }
    }
}
