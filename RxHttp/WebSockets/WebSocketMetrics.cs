using System.Diagnostics;

namespace RxHttp;

/// <summary>
/// One websocket's share of RxHttp's own websocket figures: <c>rxhttp.websocket.active</c> while it is open,
/// and its data messages in <c>rxhttp.websocket.messages_sent</c> / <c>messages_received</c>. Made only when one
/// of them is on as the websocket opens (null otherwise), so the active count always balances.
/// </summary>
internal sealed class WebSocketMetrics
{
    private readonly KeyValuePair<string, object?>[] _tags; // url.scheme, server.address, server.port
    private readonly bool _counted;
    private int _closed;

    private WebSocketMetrics(Url url, bool counted)
    {
        _tags = [new("url.scheme", url.Scheme), new("server.address", url.Host), new("server.port", HttpSemantics.Boxed(url.Port))];
        _counted = counted;
        if (counted) Listeners.Add(Telemetry.WebSocketsActive, 1, new TagList(_tags.AsSpan()));
    }

    public static WebSocketMetrics? Open(Url url)
    {
        var counted = Telemetry.WebSocketsActive.Enabled;
        return counted || Telemetry.WebSocketMessagesSent.Enabled || Telemetry.WebSocketMessagesReceived.Enabled
            ? new WebSocketMetrics(url, counted)
            : null;
    }

    public void Sent(WsMsgType type)
    {
        if (type is WsMsgType.Text or WsMsgType.Binary && Telemetry.WebSocketMessagesSent.Enabled)
            Listeners.Add(Telemetry.WebSocketMessagesSent, 1, Tags(type));
    }

    public void Received(WsMsgType type)
    {
        if (type is WsMsgType.Text or WsMsgType.Binary && Telemetry.WebSocketMessagesReceived.Enabled)
            Listeners.Add(Telemetry.WebSocketMessagesReceived, 1, Tags(type));
    }

    public void Closed()
    {
        if (_counted && Interlocked.Exchange(ref _closed, 1) == 0) Listeners.Add(Telemetry.WebSocketsActive, -1, new TagList(_tags.AsSpan()));
    }

    private TagList Tags(WsMsgType type)
    {
        var tags = new TagList(_tags.AsSpan());
        tags.Add("rxhttp.websocket.message.type", type == WsMsgType.Text ? "text" : "binary");
        return tags;
    }
}
