namespace RxHttp;

/// <summary>
/// The seam between the engine and the wire: what <see cref="RequestCall"/> sends each hop through. The real one is
/// <see cref="Http1Exchange"/> (lease a connection, write the request, read the head, hand the body to the
/// response); tests put a scripted one here, so each pipeline step (redirects, cookies, auth, the Total deadline,
/// raise-for-status) runs in pure virtual time with no socket. Kept to one method on purpose.
/// </summary>
internal interface IExchange
{
    /// <summary>
    /// Sends one hop of <paramref name="request"/> and completes with its response once the head has arrived (the
    /// body, if any, still to be read from the response); cancelling <paramref name="ct"/> abandons the hop.
    /// </summary>
    ValueTask<ClientResponse> SendAsync(ClientRequest request, CancellationToken ct);
}
