namespace RxHttp;

/// <summary>A snapshot of a connector's pool, published on <see cref="BaseConnector.State"/>.</summary>
/// <param name="InUse">Connections leased to requests.</param>
/// <param name="Opening">Connections being opened (DNS, connect, TLS) for a request.</param>
/// <param name="Idle">Open connections waiting for reuse.</param>
/// <param name="Waiting">Requests queued because a limit was reached.</param>
/// <param name="PerHost">In-use plus opening connections per pool key.</param>
public sealed record PoolState(int InUse, int Opening, int Idle, int Waiting, IReadOnlyDictionary<ConnectionKey, int> PerHost)
{
    /// <summary>Open sockets: in use and idle (opening ones are not open yet).</summary>
    public int Open => InUse + Idle;

    /// <inheritdoc />
    public override string ToString() =>
        $"open={Open} in_use={InUse} opening={Opening} idle={Idle} waiting={Waiting} hosts=[{string.Join(", ", PerHost.Select(kv => $"{kv.Key.Host}:{kv.Key.Port}={kv.Value}"))}]";

    /// <summary>The state of an empty pool.</summary>
    public static PoolState Empty { get; } = new(0, 0, 0, 0, new Dictionary<ConnectionKey, int>());
}
