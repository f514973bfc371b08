namespace RxHttp;

// The verbs for callers holding a System.Uri (HttpClient's currency): the same requests as the Url forms, the Uri
// converted once by Url.FromUri (an absolute Uri in its escaped form, requoted; a relative one joined onto BaseUrl).
public sealed partial class ClientSession
{
    /// <summary>A request with any method, to a <see cref="Uri"/> (absolute, or relative to <see cref="BaseUrl"/>).</summary>
    public ResponseObservable Request(string method, Uri uri, RequestOptions? options = null) => Request(method, ToUrl(uri), options);
    /// <summary>GET a <see cref="Uri"/>.</summary>
    public ResponseObservable Get(Uri uri, RequestOptions? options = null) => Get(ToUrl(uri), options);
    /// <summary>POST to a <see cref="Uri"/>.</summary>
    public ResponseObservable Post(Uri uri, RequestOptions? options = null) => Post(ToUrl(uri), options);
    /// <summary>PUT to a <see cref="Uri"/>.</summary>
    public ResponseObservable Put(Uri uri, RequestOptions? options = null) => Put(ToUrl(uri), options);
    /// <summary>DELETE a <see cref="Uri"/>.</summary>
    public ResponseObservable Delete(Uri uri, RequestOptions? options = null) => Delete(ToUrl(uri), options);
    /// <summary>HEAD a <see cref="Uri"/>.</summary>
    public ResponseObservable Head(Uri uri, RequestOptions? options = null) => Head(ToUrl(uri), options);
    /// <summary>OPTIONS to a <see cref="Uri"/>.</summary>
    public ResponseObservable Options(Uri uri, RequestOptions? options = null) => Options(ToUrl(uri), options);
    /// <summary>PATCH a <see cref="Uri"/>.</summary>
    public ResponseObservable Patch(Uri uri, RequestOptions? options = null) => Patch(ToUrl(uri), options);
    /// <summary>Opens a websocket to a <see cref="Uri"/> (ws, wss, http or https); see <see cref="WsConnect(Url, WsConnectOptions?)"/>.</summary>
    public IObservable<ClientWebSocket> WsConnect(Uri uri, WsConnectOptions? options = null) => WsConnect(ToUrl(uri), options);
    /// <summary>A server-sent event stream from a <see cref="Uri"/>; see <see cref="EventSource(Url, EventSourceOptions?)"/>.</summary>
    public IObservable<ServerSentEvent> EventSource(Uri uri, EventSourceOptions? options = null) => EventSource(ToUrl(uri), options);
    /// <summary>Task form of <see cref="WsConnect(Uri, WsConnectOptions?)"/>.</summary>
    public Task<ClientWebSocket> WsConnectAsync(Uri uri, WsConnectOptions? options = null, CancellationToken cancellationToken = default) =>
        WsConnectAsync(ToUrl(uri), options, cancellationToken);

    private static Url ToUrl(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return Url.FromUri(uri);
    }
}
