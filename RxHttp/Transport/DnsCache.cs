using System.Net;
using System.Net.Sockets;
using System.Reactive.Concurrency;

namespace RxHttp.Transport;

/// <summary>
/// Resolved addresses per (host, port) with a time to live measured on the connector's scheduler, and one
/// look-up in flight per key: concurrent requests for a name share it (aiohttp's DNS throttling).
/// </summary>
internal sealed class DnsCache(IResolver resolver, Func<IScheduler> clock)
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Host, int Port), (IReadOnlyList<IPAddress> Addresses, DateTimeOffset Stored)> _entries = new();
    private readonly Dictionary<(string Host, int Port), Task<IReadOnlyList<IPAddress>>> _inFlight = new();

    /// <summary>How many look-ups reached the resolver (for tests and diagnostics).</summary>
    public int Lookups;

    /// <summary>The cached addresses when they are still fresh (a cache hit, for tracing).</summary>
    public bool TryGetFresh(string host, int port, TimeSpan? ttl, out IReadOnlyList<IPAddress> addresses)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue((host, port), out var entry) && (ttl is null || clock().Now - entry.Stored < ttl.Value))
            {
                addresses = entry.Addresses;
                return true;
            }
        }
        addresses = Array.Empty<IPAddress>();
        return false;
    }

    /// <summary>Cached addresses if fresh, else a (shared) look-up that fills the cache.</summary>
    public Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, int port, AddressFamily family, TimeSpan? ttl, CancellationToken ct)
    {
        var key = (host, port);
        Task<IReadOnlyList<IPAddress>> shared;
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var entry))
            {
                if (ttl is null || clock().Now - entry.Stored < ttl.Value) return Task.FromResult(entry.Addresses);
                _entries.Remove(key);
            }
            if (!_inFlight.TryGetValue(key, out shared!))
            {
                // Not cancelled by any one caller: the others still wait for it.
                shared = LookupAsync(key, family);
                _inFlight[key] = shared;
                shared.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }
        return shared.WaitAsync(ct);
    }

    private async Task<IReadOnlyList<IPAddress>> LookupAsync((string Host, int Port) key, AddressFamily family)
    {
        // Leave the lock before the resolver runs, and before this task is stored as in flight: a look-up that ended
        // first would remove its entry before it was added, and the finished task would answer for the key forever.
        await ThreadPoolHop.Always;
        try
        {
            Interlocked.Increment(ref Lookups);
            var result = await resolver.ResolveAsync(key.Host, key.Port, family, CancellationToken.None).ConfigureAwait(false);
            if (result.Count > 0) lock (_gate) _entries[key] = (result, clock().Now);
            return result;
        }
        finally
        {
            lock (_gate) _inFlight.Remove(key);
        }
    }

    public void Clear(string? host, int? port)
    {
        lock (_gate)
        {
            if (host is null) _entries.Clear();
            else _entries.Remove((host, port!.Value));
        }
    }
}
