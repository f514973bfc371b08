using System.Runtime.InteropServices;

namespace RxHttp;

/// <summary>
/// One pool key's share of the pool (SocketsHttpHandler's HttpConnectionPool, one per origin): its idle connections,
/// most recently used last, and how many slots it holds (leases plus openings). All of it is read and written under
/// the owning <see cref="BaseConnector"/>'s gate.
/// </summary>
internal sealed class HostPool(ConnectionKey key)
{
    public ConnectionKey Key { get; } = key;

    /// <summary>Idle connections, most recent last: reused LIFO, so the warmest socket serves the next request.</summary>
    public List<Connection> Idle { get; } = new();

    /// <summary>Leases plus openings of this key: what <see cref="ConnectorOptions.LimitPerHost"/> bounds.</summary>
    public int Acquired;

    /// <summary>Connections of this key being opened (part of <see cref="Acquired"/>).</summary>
    public int Opening;

    /// <summary>Nothing acquired, nothing idle: the bucket can leave the pool's dictionary.</summary>
    public bool IsEmpty => Acquired == 0 && Idle.Count == 0;
}

/// <summary>The pool's buckets: one per key with connections acquired or idle.</summary>
public abstract partial class BaseConnector
{
    private HostPool? Find(ConnectionKey key) => _hosts.GetValueOrDefault(key);

    /// <summary>How many keys the pool keeps a bucket for (tests: buckets must not outlive their connections).</summary>
    internal int BucketCount
    {
        get { lock (_gate) return _hosts.Count; }
    }

    private HostPool BucketFor(ConnectionKey key)
    {
        ref var b = ref CollectionsMarshal.GetValueRefOrAddDefault(_hosts, key, out _);
        return b ??= new HostPool(key);
    }

    // A key with nothing acquired and nothing idle leaves the dictionary, so a client of many hosts keeps no
    // bucket per host it once used. No connection refers to a dropped bucket: its leases and idle ones kept it.
    private void DropIfEmpty(HostPool b)
    {
        if (b.IsEmpty && _hosts.TryGetValue(b.Key, out var current) && ReferenceEquals(current, b))
            _hosts.Remove(b.Key);
    }

    private bool HasCapacity(HostPool? b) =>
        (Limit == 0 || _acquired < Limit) && (LimitPerHost == 0 || (b?.Acquired ?? 0) < LimitPerHost);
}
