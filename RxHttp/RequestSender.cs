using System.Buffers;
using System.Runtime.CompilerServices;
using RxHttp.Http1;

namespace RxHttp;

/// <summary>
/// What went out in the head: the request as sent, and how its body is framed (and whether it waits for 100).
/// <see cref="WriteError"/>: writing the body failed, maybe because the server answered and closed without reading it.
/// </summary>
internal readonly record struct SentRequest(RequestInfo Info, RequestFraming Framing)
{
    public ClientOSError? WriteError { get; init; }

    /// <summary>The server answered and began closing before the body ended, so the rest of it was not sent.</summary>
    public bool BodyCut { get; init; }
}

/// <summary>
/// The writing half of an exchange: builds the head from the request and its <see cref="RequestFraming"/>, and sends
/// it with the body (through <see cref="ConnectionPayloadWriter"/>), or alone when the body waits for 100 Continue.
/// </summary>
internal static class RequestSender
{
    /// <summary>Writes the head and, unless it waits for 100 Continue, the body; a failed body write is in the result.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<SentRequest> SendAsync(Connection connection, ClientRequest request, RequestTracer? tracer, CancellationToken ct)
    {
        var body = request.Body;
        var framing = RequestFraming.Decide(request.Method, request.Headers, body is not null, body?.Length, body is BytesPayload, request.Chunked,
            body is not null && request.Plan.Expect100, connection.Key.IsAbsoluteForm);
        var writer = connection.Writer;
        writer.Clear();
        var sent = new SentRequest(WriteHead(writer, request, connection.Key, framing), framing);
        if (framing.Send == RequestSend.HeadOnly)
        {
            if (body is null)
            {
                // The head would promise bytes that never come: a server reading them waits until its timeout or ours.
                if (framing.DeclaredLength is > 0 and var announced)
                    throw new ClientPayloadError($"The request has no body but its Content-Length announces {announced} bytes.");
                if (framing.Body == RequestBodyFraming.Chunked) writer.Write(HttpRequestWriter.LastChunk);
            }
            await connection.WriteAsync(writer.WrittenMemory, ct).ConfigureAwait(false);
            tracer?.Emit(TraceEventKind.RequestHeadersSent, request, headers: sent.Info.Headers);
            return sent;
        }
        try
        {
            if (!await WriteWithBodyAsync(connection, request, sent, tracer, ct).ConfigureAwait(false)) return sent with { BodyCut = true };
        }
        catch (ClientOSError e) when (connection.AbortReason is null && connection.WriteFailed)
        {
            // A server that refuses a body (413, 401) may answer at once and close without reading the rest; the
            // reset then fails the write while its answer waits in the receive buffer (RFC 9112 §9.5: a client
            // watches for that answer). The caller looks for it before it reports this error. A ClientOSError of the
            // body source's own is no such thing: waiting for an answer to a body the server still waits for would
            // last until a timeout, which would then be reported instead of it.
            return sent with { WriteError = e };
        }
        return sent;
    }

    // False when the server's early answer cut the body short.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> WriteWithBodyAsync(Connection connection, ClientRequest request, SentRequest sent, RequestTracer? tracer, CancellationToken ct)
    {
        if (sent.Framing.Send != RequestSend.HeadWithBody)
            return await SendBodyAsync(connection, request, sent, headSent: false, tracer, ct).ConfigureAwait(false);
        var writer = connection.Writer;
        var data = ((BytesPayload)request.Body!).Data;
        data.Span.CopyTo(writer.GetSpan(data.Length));
        writer.Advance(data.Length);
        await connection.WriteAsync(writer.WrittenMemory, ct).ConfigureAwait(false);
        tracer?.Emit(TraceEventKind.RequestHeadersSent, request, headers: sent.Info.Headers);
        if (data.Length > 0) tracer?.Emit(TraceEventKind.RequestChunkSent, request, chunk: data.Length);
        request.Plan.UploadProgress?.OnNext(new TransferProgress(data.Length, data.Length));
        return true;
    }

    /// <summary>
    /// Writes the body framed as <paramref name="sent"/> says: behind a head still in the connection's writer, or
    /// (<paramref name="headSent"/>) after the server's 100 Continue. False when the server answered and began closing
    /// before the body ended, which stopped it (<see cref="ConnectionPayloadWriter.Cut"/>).
    /// </summary>
    public static async Task<bool> SendBodyAsync(Connection connection, ClientRequest request, SentRequest sent, bool headSent, RequestTracer? tracer, CancellationToken ct,
        bool watch = true)
    {
        if (headSent) connection.Writer.Clear();
        Action? onHead = tracer is null ? null : () => tracer.Emit(TraceEventKind.RequestHeadersSent, request, headers: sent.Info.Headers);
        Action<int>? onChunk = tracer is null ? null : n => tracer.Emit(TraceEventKind.RequestChunkSent, request, chunk: n);
        var bodyWriter = new ConnectionPayloadWriter(connection, sent.Framing.Body == RequestBodyFraming.Chunked, connection.Writer,
            sent.Framing.DeclaredLength, request.Plan.UploadProgress, headSent, onHead, onChunk, watch,
            virtualClock: request.Scheduler is { } clock && Transport.TimerWheel.IsVirtualTime(clock));
        try
        {
            await request.Body!.WriteToAsync(bodyWriter, ct).ConfigureAwait(false);
        }
        // Whatever the payload made of the cut (rethrown, wrapped, swallowed and written on): the writer knows.
        catch (Exception) when (bodyWriter.Cut)
        {
            return false;
        }
        if (bodyWriter.Cut) return false;
        await bodyWriter.CompleteAsync(ct).ConfigureAwait(false);
        return true;
    }

    // CONNECT names the host and port to tunnel to, never a path (RFC 9112 §3.2.3): "/" there is a malformed request,
    // which proxies answer 400. aiohttp and HttpClient write the authority form too, the port always, a zone never.
    private static string OriginOrAuthorityForm(ClientRequest request) => request.Method == "CONNECT"
        ? string.Concat(Url.WireHost(request.Url.Host), ":", request.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))
        : request.Url.PathAndQuery;

    /// <summary>Writes the head into <paramref name="writer"/>; returns the request as sent.</summary>
    private static RequestInfo WriteHead(PooledBufferWriter writer, ClientRequest request, ConnectionKey key, in RequestFraming framing)
    {
        var host = request.Headers.Get("Host") ?? request.Url.HostHeader;
        if (framing.HeadersAsGiven)
        {
            // Nothing to add but Host: the request's own headers go out as they are, and its RequestInfo keeps
            // them rather than a copy (the usual GET).
            HttpRequestWriter.WriteHead(writer, request.Method, OriginOrAuthorityForm(request), host, request.Headers.Span);
            return new RequestInfo(request.Method, request.Url, host, request.Headers) { RealUrl = request.OriginalUrl };
        }

        var headers = HeaderCollection.HostFirst(host, request.Headers.Span, extra: 2);
        if (request.Body?.ContentType is { } type && !headers.Contains("Content-Type") && !request.Plan.SkipContentType) headers.AddUnchecked("Content-Type", type);
        framing.ApplyTo(headers);

        // Plain http through a proxy: the absolute-form target (RFC 9112 §3.2.2) and the proxy's own headers.
        var target = OriginOrAuthorityForm(request);
        if (framing.AbsoluteForm)
        {
            if (request.Method != "CONNECT") target = request.Url.AbsoluteForm;
            foreach (var (name, value) in key.AbsoluteFormProxyHeaders(headers)) headers.AddUnchecked(name, value);
        }

        HttpRequestWriter.WriteHead(writer, request.Method, target, headers.Span);
        return new RequestInfo(request.Method, request.Url, headers.MakeReadOnly()) { RealUrl = request.OriginalUrl };
    }
}
