namespace RxHttp;

// The part of the response errors that carries responses: the redirect history, and the errors raised with one.
public partial class ClientResponseError
{
    /// <summary>Creates the error.</summary>
    public ClientResponseError(RequestInfo? requestInfo, IReadOnlyList<ClientResponse>? history, int status, string message,
        HeaderCollection? headers = null, Exception? inner = null)
        : this(requestInfo, status, message, headers, inner)
    {
        if (history is not null) History = history;
    }

    /// <summary>The redirect hops before the failing response.</summary>
    public IReadOnlyList<ClientResponse> History { get; } = Array.Empty<ClientResponse>();
}

/// <summary>The response's Content-Type is not what the reader expected (for example <c>Json()</c> on text/html).</summary>
public class ContentTypeError : ClientResponseError
{
    /// <summary>Creates the error.</summary>
    public ContentTypeError(RequestInfo? requestInfo, IReadOnlyList<ClientResponse>? history, int status, string message, HeaderCollection? headers = null)
        : base(requestInfo, history, status, message, headers) { }
}

/// <summary>More redirects than <c>MaxRedirects</c> allows; <see cref="ClientResponseError.History"/> holds every hop.</summary>
public class TooManyRedirects : ClientResponseError
{
    /// <summary>Creates the error.</summary>
    public TooManyRedirects(RequestInfo? requestInfo, IReadOnlyList<ClientResponse> history, int status, string message, HeaderCollection? headers = null)
        : base(requestInfo, history, status, message, headers) { }
}
