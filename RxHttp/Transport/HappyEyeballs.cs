using System.Net;
using System.Net.Sockets;
using System.Reactive.Concurrency;

namespace RxHttp.Transport;

/// <summary>
/// RFC 8305 connection racing: attempts start in order, the next one when the previous fails or after
/// <c>delay</c> on the scheduler, whichever comes first; the first socket that connects wins and the others
/// are cancelled (and closed should they connect anyway). Each attempt has its own SockConnect timer.
/// </summary>
internal sealed class HappyEyeballs
{
    private readonly IScheduler _scheduler;
    private readonly TimeSpan? _delay;
    private readonly TimeSpan? _sockConnect;
    private readonly TimeSpan _ceilThreshold;
    private readonly IPEndPoint? _local;
    private readonly Action? _onAttempt;

    public HappyEyeballs(IScheduler scheduler, TimeSpan? delay, TimeSpan? sockConnect, TimeSpan ceilThreshold, IPEndPoint? local, Action? onAttempt)
    {
        _scheduler = scheduler;
        _delay = delay;
        _sockConnect = sockConnect;
        _ceilThreshold = ceilThreshold;
        _local = local;
        _onAttempt = onAttempt;
    }

    /// <summary>RFC 8305 §4: alternate the families, starting with the family of the first address.</summary>
    public static List<IPAddress> Interleave(IReadOnlyList<IPAddress> addresses)
    {
        if (addresses.Count < 2) return addresses.ToList();
        var first = addresses.Where(a => a.AddressFamily == addresses[0].AddressFamily).ToList();
        var other = addresses.Where(a => a.AddressFamily != addresses[0].AddressFamily).ToList();
        var result = new List<IPAddress>(addresses.Count);
        for (var i = 0; i < Math.Max(first.Count, other.Count); i++)
        {
            if (i < first.Count) result.Add(first[i]);
            if (i < other.Count) result.Add(other[i]);
        }
        return result;
    }

    /// <summary>
    /// The winning socket and its attempt's SockConnect deadline (null: none); fails with the last error when every
    /// attempt failed.
    /// </summary>
    public async Task<(Socket Socket, DateTimeOffset? Due)> ConnectAsync(IReadOnlyList<IPEndPoint> endPoints, CancellationToken ct)
    {
        using var all = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = new List<Task<(Socket Socket, DateTimeOffset? Due)>>();
        var errors = new List<Exception>();
        var next = 0;
        try
        {
            while (true)
            {
                TaskCompletionSource? stagger = null;
                IDisposable? staggerTimer = null;
                if (next < endPoints.Count)
                {
                    pending.Add(AttemptAsync(endPoints[next++], all.Token));
                    if (_delay is { } d && next < endPoints.Count)
                    {
                        var tcs = stagger = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        staggerTimer = _scheduler.Schedule(d, () => tcs.TrySetResult());
                    }
                }
                if (pending.Count == 0) break;
                try
                {
                    while (pending.Count > 0)
                    {
                        var waitOn = new List<Task>(pending);
                        if (stagger is not null) waitOn.Add(stagger.Task);
                        var done = await Task.WhenAny(waitOn).ConfigureAwait(false);
                        if (done == stagger?.Task) break; // time to start the next attempt alongside
                        var attempt = (Task<(Socket Socket, DateTimeOffset? Due)>)done;
                        pending.Remove(attempt);
                        if (attempt.IsCompletedSuccessfully) return attempt.Result;
                        ct.ThrowIfCancellationRequested();
                        errors.Add(attempt.Exception?.InnerException ?? new OperationCanceledException());
                        if (next < endPoints.Count) break; // failed: start the next one now
                    }
                }
                finally
                {
                    staggerTimer?.Dispose();
                }
                if (pending.Count == 0 && next >= endPoints.Count) break;
            }
        }
        finally
        {
            all.Cancel();
            foreach (var loser in pending)
                _ = loser.ContinueWith(static t =>
                {
                    if (t.IsCompletedSuccessfully) t.Result.Socket.Dispose();
                    else _ = t.Exception;
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        ct.ThrowIfCancellationRequested();
        // A timeout anywhere says more than "refused" elsewhere only when every attempt timed out.
        if (errors.Count > 0 && errors.All(e => e is ConnectionTimeoutError)) throw errors[^1];
        throw errors.LastOrDefault(e => e is not ConnectionTimeoutError) ?? new SocketException((int)SocketError.HostUnreachable);
    }

    private async Task<(Socket Socket, DateTimeOffset? Due)> AttemptAsync(IPEndPoint endPoint, CancellationToken ct)
    {
        // On the wheel: attempts of the same second share one scheduled action, and a timer cancelled by a connect is
        // unlinked at once (Rx keeps cancelled absolute-time work queued until its deadline: a dead 30 s entry per new
        // connection).
        using var deadline = new ConnectDeadline(_scheduler, _sockConnect, _ceilThreshold, ct);
        _onAttempt?.Invoke();
        try
        {
            return (await SocketFactory.ConnectAsync(endPoint, _local, deadline.Token).ConfigureAwait(false), deadline.Due);
        }
        catch (OperationCanceledException) when (deadline.Expired)
        {
            throw new ConnectionTimeoutError($"Connection timeout to {endPoint} (sock_connect {Describe(_sockConnect)})");
        }
    }

    private static string Describe(TimeSpan? t) => t is { } v ? v.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " s" : "none";
}
