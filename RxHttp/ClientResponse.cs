using System.Reactive.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace RxHttp;

/// <summary>
/// A response whose head has arrived. The body is read once, on demand: <see cref="Content"/> (chunks),
/// <see cref="IterChunked"/> (pull, with back-pressure), <see cref="Read"/>, <see cref="Text"/> or
/// <see cref="Json{T}(string?, System.Text.Json.JsonSerializerOptions?)"/>. Reading to the end returns the connection to the pool; <see cref="Release"/> or
/// <see cref="Dispose"/> before that closes it. Every chunk handed out is a fresh array the caller may keep.
/// <para>A body nobody reads does not hold its connection. A small body that arrived with its head (up to 64 KiB)
/// is taken off the connection before the response is delivered. When the subscription that delivered the response
/// ends (an operator dropped it, it was passed on past <c>OnNext</c>, or an <c>await</c> returned it) with the body
/// unread, up to 1 MiB of it is read into memory for a later read and the connection returned; a reader that starts
/// meanwhile takes over without losing a byte. The rest of a longer body waits on its connection for a reader
/// (<see cref="RequestOptions.StreamResponse"/> leaves every body there). A response dropped unread and unreleased
/// with its body still on the connection has that connection closed when it is garbage-collected, reported as
/// <see cref="TraceEventKind.ResponseUnreleased"/>.</para>
/// </summary>
public sealed partial class ClientResponse : IDisposable, IPipedBody
{
    // One response per request: only what every response needs is a field here (the sequential-GET profile
    // counts every one of them); Method and Url come from RequestInfo, the Content-Type and Content-Length views
    // are parsed from the headers when asked, and the rarely used rest waits in _extras.
    private readonly ResponseBody? _body;

    /// <summary>The body's reader, or null without a body (tests).</summary>
    internal ResponseBody? BodyReader => _body;
    private byte[]? _cached;
    private Extras? _extras;
    private byte _consuming; // 1 once a reader started
    private bool _streamRequested; // RequestOptions.StreamResponse: an unread body stays on its connection

    // What most responses never need: created by the first of them that is set.
    private sealed class Extras
    {
        public Stream? Decoded;
        // The decoders hold native zlib/brotli/zstd state and pooled buffers: disposed at the body's end (or on a
        // release before any read) rather than left to their finalizers. Only from the reader's own flow, never
        // under a read in flight: a DeflateStream disposed mid-read returns its buffer to the pool while it is written.
        public bool DecodedDisposed;
        // The codings the decoders undo: a release disposes them while the body may still be read from memory (it
        // came with its head, or was kept once the subscription ended), and a later read decodes it with new ones.
        public string? TransferCodings, ContentCodings;
        public bool DecodersReleased; // disposed by a release, not at the body's end
        public JsonSerializerOptions? JsonOptions;
        public Connection? Upgraded;
        public RequestTracer? Tracer;
        public IReadOnlyList<ClientResponse>? History;
        public ResponseCookies? Cookies;
        public System.Reactive.Subjects.BehaviorSubject<TransferProgress>? Progress;
        public string? CachedText; // a large UTF-8 body read by Text() (ClientResponse.LargeText.cs)
        public UnreleasedResponseGuard? Guard;
        public long? MaxBodySize;
        public Func<ClientResponse, ReadOnlyMemory<byte>, Encoding>? CharsetResolver;
        public int ReadBufferSize; // 0: the default
        public List<(int Index, byte[] Name, byte[] Value)>? RawExceptions; // headers whose strings do not give their bytes back
        public bool RequestBodyUnsent; // ClientResponse.RequestBody.cs
        public System.Reactive.Concurrency.IScheduler? Clock; // a request's own clock, when not the default (OnVirtualClock)
    }

    internal ClientResponse(int status, string reason, Version version, HeaderCollection headers,
        RequestInfo requestInfo, Connection? connection, ResponseBody? body, bool autoDecompress, JsonSerializerOptions jsonOptions,
        UnreleasedResponseGuard.Report? unreleased = null, string? transferCodings = null)
    {
        Status = status;
        Reason = reason;
        Version = version;
        Headers = headers.MakeReadOnly();
        RequestInfo = requestInfo;
        _body = body;
        // The session default is the one Json<T> falls back to without a field for it.
        if (!ReferenceEquals(jsonOptions, JsonDefaults.Web)) GetExtras().JsonOptions = jsonOptions;
        // Without a body (101 Switching Protocols) the connection stays with the response for the caller to take.
        if (body is null && connection is not null) GetExtras().Upgraded = connection;
        if (body is not null && !body.AtEnd && (autoDecompress ? headers.Get("Content-Encoding") : null) is var contentEncoding
            && (transferCodings is not null || contentEncoding is not null))
        {
            var extras = GetExtras();
            extras.Decoded = Decoders(body, transferCodings, contentEncoding);
            (extras.TransferCodings, extras.ContentCodings) = (transferCodings, contentEncoding);
        }
        // Only a body still on its connection needs the safety net (and only it pays for a finalizable object).
        if (body is { IsDone: false } && unreleased is not null) GetExtras().Guard = new UnreleasedResponseGuard(body, requestInfo, unreleased);
    }

    // Transfer codings were applied last, so they come off first; then the content codings.
    private static Stream? Decoders(ResponseBody body, string? transferCodings, string? contentEncoding)
    {
        Stream raw = new ResponseBodyStream(body);
        var unframed = Decompression.Wrap(transferCodings, raw, transfer: true) ?? raw;
        return Decompression.Wrap(contentEncoding, unframed) ?? (ReferenceEquals(unframed, raw) ? null : unframed);
    }

    private Extras GetExtras() => _extras ?? Interlocked.CompareExchange(ref _extras, new Extras(), null) ?? _extras;

    private Stream? Decoded => _extras?.Decoded;

    /// <summary>The status code.</summary>
    public int Status { get; }
    /// <summary>The reason phrase.</summary>
    public string Reason { get; }
    /// <summary>The HTTP version of the response (1.0 or 1.1).</summary>
    public Version Version { get; }
    /// <summary>True for a status below 400.</summary>
    public bool Ok => Status < 400;
    /// <summary>The URL that was requested for this response (the last hop after redirects), without fragment.</summary>
    public Url Url => RequestInfo.Url;
    /// <summary>The request method.</summary>
    public string Method => RequestInfo.Method;
    /// <summary>The response headers (read-only, case-insensitive, multi-valued).</summary>
    public HeaderCollection Headers { get; }
    /// <summary>The media type of Content-Type, lower-case, without parameters ("application/octet-stream" when absent, as aiohttp).</summary>
    public string ContentType
    {
        get
        {
            ContentTypeHeader.Parse(Headers.Get("Content-Type"), out var type, out _);
            return type;
        }
    }

    /// <summary>The charset parameter of Content-Type, or null.</summary>
    public string? Charset
    {
        get
        {
            ContentTypeHeader.Parse(Headers.Get("Content-Type"), out _, out var charset);
            return charset;
        }
    }

    /// <summary>The Link headers (RFC 8288) with their targets resolved against <see cref="Url"/>; empty when there are none.</summary>
    public WebLinks Links => Headers.Contains("Link") ? WebLinks.Parse(Headers.GetAll("Link"), Url) : WebLinks.Empty;

    /// <summary>The Content-Disposition header parsed (type, parameters, file name), or null when there is none.</summary>
    public ContentDisposition? ContentDisposition => ContentDisposition.Parse(Headers.Get("Content-Disposition"));

    /// <summary>Content-Length when given and the body is not decompressed on the fly.</summary>
    public long? ContentLength => Decoded is null && long.TryParse(Headers.Get("Content-Length"), out var len) ? len : null;
    /// <summary>What was sent.</summary>
    public RequestInfo RequestInfo { get; }
    /// <summary>The responses of earlier redirect hops, oldest first.</summary>
    public IReadOnlyList<ClientResponse> History
    {
        get => _extras?.History ?? Array.Empty<ClientResponse>();
        internal set
        {
            if (value.Count > 0 || _extras is not null) GetExtras().History = value;
        }
    }

    /// <summary>Cookies this response set (from its Set-Cookie headers): name to value, and with their attributes in <see cref="ResponseCookies.Morsels"/>.</summary>
    public ResponseCookies Cookies
    {
        get => _extras?.Cookies ?? ResponseCookies.Empty;
        internal set
        {
            if (value.Count > 0 || _extras is not null) GetExtras().Cookies = value;
        }
    }

    /// <summary>True once the connection was returned or closed.</summary>
    public bool Closed => _body is null || _body.IsDone;

    /// <summary>The connection carrying the body, until it is released.</summary>
    public Connection? Connection => _body is null ? _extras?.Upgraded : Closed ? null : _body.Connection;

    /// <summary>
    /// Download progress: the body bytes received so far (as on the wire, before decompression) and the
    /// Content-Length when the server sent one. Hot and replaying the latest value, so a UI can bind to it at any
    /// time; it completes when the body has been read to the end or the response is released (compare the last
    /// <see cref="TransferProgress.Bytes"/> with <see cref="TransferProgress.Total"/> to tell the two apart).
    /// Values are pushed on the reading thread; sample or <c>ObserveOn</c> as the UI needs. Calls never overlap: a
    /// release from another thread while a value is being delivered completes the stream after that value.
    /// </summary>
    public IObservable<TransferProgress> DownloadProgress
    {
        get
        {
            long? total = long.TryParse(Headers.Get("Content-Length"), out var cl) ? cl : null;
            if (_body is null || Closed) return Observable.Return(new TransferProgress(_body?.BytesRead ?? 0, total));
            var extras = GetExtras();
            if (Volatile.Read(ref extras.Progress) is null)
            {
                var subject = new System.Reactive.Subjects.BehaviorSubject<TransferProgress>(new TransferProgress(_body.BytesRead, total));
                // The body reports to it (and completes it, also when it ended meanwhile).
                if (Interlocked.CompareExchange(ref extras.Progress, subject, null) is null) _body.ReportProgress(subject, total);
            }
            return extras.Progress!.AsObservable();
        }
    }

    /// <summary>Raises <see cref="ClientResponseError"/> when the status is 400 or above (and releases the response).</summary>
    public ClientResponse RaiseForStatus()
    {
        if (Ok) return this;
        Release();
        throw new ClientResponseError(RequestInfo, History, Status, Reason, Headers);
    }

    /// <summary>
    /// The body as a stream of chunks, each a fresh array the subscriber may keep (buffering with
    /// <c>ToList()</c> is safe). Cold and single-use: subscribing starts reading; disposing mid-body closes
    /// the connection. After <see cref="Read"/> it replays the cached body, in chunks of the same size. Each chunk is
    /// at most <see cref="ClientSessionOptions.ReadBufferSize"/> bytes (64 KiB by default).
    /// </summary>
    public IObservable<ReadOnlyMemory<byte>> Content =>
        StreamingObservable.From(ct => IterChunked(ReadBufferSize, ct), OnVirtualClock);

    // One buffer per download, reused: larger reads mean fewer syscalls and chunks per byte (measured on loopback:
    // 256 KiB reads run ~25% faster than 64 KiB ones). Content keeps 64 KiB, since its chunks are fresh arrays and
    // anything over 85 KB would be a large-object-heap allocation per chunk.
    internal const int BorrowedChunkSize = 256 * 1024;

    /// <summary>
    /// The body as slices of one reused, pooled buffer: each chunk is valid <b>only until <c>OnNext</c> returns</b>
    /// (copy what you keep; buffering with <c>ToList()</c> is wrong here, use <see cref="Content"/> for that). For
    /// streaming into a file, socket or hash at full speed: no array is allocated per chunk, which is what a
    /// fresh-array chunk costs in memory bandwidth (about 20% of download throughput on a fast link). Cold and
    /// single-use as <see cref="Content"/>: subscribing starts reading, the next read waits for <c>OnNext</c> to
    /// return, disposing mid-body closes the connection; after <see cref="Read"/> it replays the cached body.
    /// Each chunk is up to 256 KiB.
    /// </summary>
    public IObservable<ReadOnlyMemory<byte>> BorrowedContent =>
        StreamingObservable.Create<ReadOnlyMemory<byte>>(async (observer, checkpoint, ct) =>
        {
            if (CachedBody is { } cached)
            {
                if (cached.Length > 0) observer.OnNext(cached);
                observer.OnCompleted();
                return;
            }
            BeginConsume();
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BorrowedChunkSize);
            var completed = false;
            try
            {
                int n;
                while ((n = await ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    observer.OnNext(buffer.AsMemory(0, n));
                    await checkpoint.AfterItem();
                }
                completed = true;
            }
            finally
            {
                if (!completed) StopReading();
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            observer.OnCompleted();
        }, OnVirtualClock);

    /// <summary>
    /// The body pulled in chunks of at most <paramref name="size"/> bytes: the socket is read only as fast as the
    /// consumer asks (back-pressure). Stopping early closes the connection.
    /// </summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> IterChunked(int size = 64 * 1024, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (CachedBody is { } cached)
        {
            for (var i = 0; i < cached.Length; i += size) yield return cached.AsMemory(i, Math.Min(size, cached.Length - i));
            yield break;
        }
        BeginConsume();
        var completed = false;
        try
        {
            while (true)
            {
                var chunk = await ReadChunkAsync(size, cancellationToken).ConfigureAwait(false);
                if (chunk is null) break;
                yield return chunk;
            }
            completed = true;
        }
        finally
        {
            if (!completed) StopReading();
        }
    }

    /// <summary>
    /// The whole body (decompressed), read once and cached; later calls replay it. At most
    /// <see cref="ClientSessionOptions.MaxBodySize"/> bytes (the request's own <see cref="RequestOptions.MaxBodySize"/>
    /// when set), counted as they are inflated: more, or a Content-Length announcing more, fails with
    /// <see cref="ClientPayloadTooLargeError"/> and releases the response. <see cref="Text"/> and <see cref="Json{T}(string?, System.Text.Json.JsonSerializerOptions?)"/> read through it.
    /// </summary>
    public IObservable<byte[]> Read() => RxAsync.FromValueTask(this, static (r, ct) => r.ReadAllAsync(ct));

    /// <summary>
    /// The body decoded as text with <paramref name="encoding"/>, else as <see cref="GetEncoding"/> says: the encoding
    /// a leading byte order mark names, else the charset of Content-Type, else UTF-8, strictly (aiohttp's
    /// <c>text()</c>): a body that is not valid UTF-8 fails with <see cref="TextDecodeError"/> unless
    /// <see cref="ClientSessionOptions.FallbackCharsetResolver"/> picks another encoding for it (a body without a
    /// charset), rather than decoding to U+FFFD. The mark is not part of the text (as HttpClient and browsers decode;
    /// aiohttp keeps it); with <paramref name="encoding"/> given, only a mark of that encoding is left out.
    /// </summary>
    public IObservable<string> Text(Encoding? encoding = null) =>
        RxAsync.FromValueTask((Response: this, Encoding: encoding), static (s, ct) => s.Response.TextAsync(s.Encoding, ct));

    // No state machine when the body is already buffered (small responses arrive with their head).
    private ValueTask<string> TextAsync(Encoding? encoding, CancellationToken ct)
    {
        if (TryLargeText(encoding, ct) is { } large) return large;
        var read = ReadAllAsync(ct);
        return read.IsCompletedSuccessfully
            ? new ValueTask<string>(Decode(read.Result, encoding))
            : Awaited(this, read, encoding);

        static async ValueTask<string> Awaited(ClientResponse r, ValueTask<byte[]> read, Encoding? encoding) =>
            r.Decode(await read.ConfigureAwait(false), encoding);
    }

    private string Decode(byte[] body, Encoding? encoding) => encoding is null ? DecodeText(body) : DecodeAs(body, encoding);

    /// <summary>
    /// Frees the connection: back to the pool if the body was fully read, closed otherwise (always closed after a 101
    /// Switching Protocols the caller did not take with <see cref="Connection.Detach"/>).
    /// </summary>
    public void Release()
    {
        if (_body is null)
        {
            CloseUpgraded();
            return;
        }
        // Nobody reads it now, so no read is in flight on the decoders.
        if (Volatile.Read(ref _consuming) == 0 && DisposeDecoders()) _extras!.DecodersReleased = true;
        if (_body.IsDone || _body.TryDrainBuffered()) return;
        Abort();
    }

    private bool DisposeDecoders()
    {
        if (_extras is not { Decoded: { } decoded, DecodedDisposed: false } extras) return false;
        extras.DecodedDisposed = true;
        decoded.Dispose();
        return true;
    }

    /// <summary>True once the decoders were disposed (tests).</summary>
    internal bool DecodersDisposed => _extras?.DecodedDisposed ?? false;

    // A 101 left its connection with the response for the caller to detach (Connection.Detach); released, or its
    // empty body read, it is closed, since it speaks another protocol now (aiohttp closes it too). Before, nothing
    // closed it: each 101 to a request that then read or disposed the response held a pool slot for good.
    private void CloseUpgraded() => _extras?.Upgraded?.CloseLease();

    /// <summary>Same as <see cref="Release"/>.</summary>
    public void Dispose() => Release();

    /// <summary>
    /// The body as a read-only stream (decompressed when enabled), for piping into another request. After
    /// <see cref="Read"/> it reads the cached body, as <see cref="Content"/> replays it.
    /// </summary>
    public Stream GetStream()
    {
        // The body is off the wire by then: reading the connection's side would give an empty stream, and a response
        // piped into another request after Read() would send none of the Content-Length it announces.
        if (CachedBody is { } cached) return new MemoryStream(cached, writable: false);
        BeginConsume();
        return new ResponseReadStream(this);
    }

    /// <inheritdoc />
    public override string ToString() => $"<ClientResponse({Url}) [{Status} {Reason}]>";

    /// <summary>The body still on its connection (the Total timer stops when it ends), or null when there is none.</summary>
    internal ResponseBody? Body => _body;

    // Total timeout: fail the body read in flight with the timeout, not with a generic disconnect.
    internal void AbortWith(Exception reason) => _body?.AbortWith(reason);

    internal void Abort() => _body?.Fail();

    /// <summary>
    /// The subscription that delivered this response has ended: a body nobody started reading is kept in memory
    /// (bounded) so its connection goes back to the pool (see the class remarks).
    /// </summary>
    internal void OnSubscriptionEnded()
    {
        if (Volatile.Read(ref _consuming) == 0 && !_streamRequested && _body is { IsDone: false } body) body.KeepUnread(MaxBodySize);
    }

    /// <summary>Set before delivery by <see cref="RequestOptions.StreamResponse"/>: an unread body is left on its connection.</summary>
    internal void KeepStreaming() => _streamRequested = true;

    private static readonly Func<int, Exception> UnreadTooLong = static max => new ClientPayloadError(
        "The response body was not read before the subscription that delivered the response ended, and it is longer than the " +
        $"{max / 1024} KiB kept for a later read, so its connection was closed. Read it inside the subscription (SelectMany, or " +
        "in OnNext), or set RequestOptions.StreamResponse = true to keep the body streaming until it is read or released.");

    // Reports ResponseChunkReceived for the session's trace; null when the request was not traced.
    internal RequestTracer? Tracer
    {
        get => _extras?.Tracer;
        init
        {
            if (value is not null) GetExtras().Tracer = value;
        }
    }

    Payload IPipedBody.ToPayload() => new ResponsePayload(this);

    // A reader found a Content-Type it cannot read (Json, Multipart): the error carries this response's history.
    private ContentTypeError ContentTypeMismatch(string message) => new(RequestInfo, History, Status, message, Headers);

    // A piece of the body was read: the body-reading parts report through here, so only the response knows its tracer.
    private void TraceChunk(int length) => _extras?.Tracer?.Emit(TraceEventKind.ResponseChunkReceived, response: this, chunk: length);

    // Kept in the extras only when it differs from the default, so the common response carries no field for it.
    internal long MaxBodySize
    {
        get => _extras?.MaxBodySize ?? ClientSessionOptions.DefaultMaxBodySize;
        init
        {
            if (value != ClientSessionOptions.DefaultMaxBodySize) GetExtras().MaxBodySize = value;
        }
    }
}
