using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;

namespace RxHttp;

/// <summary>
/// One pooled connection's share of <c>http.client.open_connections</c> (tagged idle or active, as HttpClient's)
/// and its <c>http.client.connection.duration</c>. Made only when one of the two instruments is on as the connection
/// opens, so a connection without a listener carries a null reference and nothing else; the up-down pairs of a
/// connection always balance, whatever listeners come and go meanwhile.
/// </summary>
internal sealed class ConnectionMetrics
{
    private const int None = 0, Active = 1, Idle = 2, Closed = 3;

    private readonly KeyValuePair<string, object?>[] _tags; // url.scheme, server.address, server.port, network.protocol.version, network.peer.address
    private readonly long _openedAt = Stopwatch.GetTimestamp();
    private readonly bool _counted;
    private int _state;

    private ConnectionMetrics(KeyValuePair<string, object?>[] tags, bool counted)
    {
        _tags = tags;
        _counted = counted;
    }

    /// <summary>A new connection, counted as active (it opens for the request that leases it); null when nobody listens.</summary>
    public static ConnectionMetrics? Open(ConnectionKey key, Socket? socket)
    {
        var counted = Telemetry.OpenConnections.Enabled;
        if (!counted && !Telemetry.ConnectionDuration.Enabled) return null;
        string? peer = null;
        try
        {
            if (socket?.RemoteEndPoint is IPEndPoint ip) peer = ip.Address.ToString();
        }
        catch (ObjectDisposedException)
        {
            // Closed already: no peer to name.
        }
        var tags = new KeyValuePair<string, object?>[peer is null ? 4 : 5];
        tags[0] = new("url.scheme", key.IsSsl ? "https" : "http");
        tags[1] = new("server.address", key.Host);
        tags[2] = new("server.port", HttpSemantics.Boxed(key.Port));
        tags[3] = new("network.protocol.version", "1.1");
        if (peer is not null) tags[4] = new("network.peer.address", peer);
        var metrics = new ConnectionMetrics(tags, counted);
        metrics.MoveTo(Active);
        return metrics;
    }

    public void Leased() => MoveTo(Active);

    public void Released() => MoveTo(Idle);

    /// <summary>Closed, or taken out of the pool (a websocket): it leaves the count and its duration is recorded.</summary>
    public void Ended() => MoveTo(Closed);

    private void MoveTo(int state)
    {
        int old;
        do
        {
            old = Volatile.Read(ref _state);
            if (old == state || old == Closed) return;
        }
        while (Interlocked.CompareExchange(ref _state, state, old) != old);
        if (_counted)
        {
            if (old != None) Listeners.Add(Telemetry.OpenConnections, -1, Tags(old));
            if (state != Closed) Listeners.Add(Telemetry.OpenConnections, 1, Tags(state));
        }
        if (state == Closed && Telemetry.ConnectionDuration.Enabled)
            Listeners.Record(Telemetry.ConnectionDuration, Stopwatch.GetElapsedTime(_openedAt).TotalSeconds, new TagList(_tags.AsSpan()));
    }

    private TagList Tags(int state)
    {
        var tags = new TagList(_tags.AsSpan());
        tags.Add("http.connection.state", state == Idle ? "idle" : "active");
        return tags;
    }
}
