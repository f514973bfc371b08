using System.Reactive.Concurrency;

namespace RxHttp;

/// <summary>
/// The safety net for a response its holder dropped without reading or releasing it: when the response is
/// garbage-collected with its body still on the connection, this closes that connection (on the session's
/// scheduler, never on the finalizer thread, since closing wakes pool waiters and their observers) and reports it.
/// Only responses whose body is still on its connection at delivery get one (a finalizable object costs the GC
/// extra work); it holds the body, never the response, so it does not keep the response alive.
/// </summary>
internal sealed class UnreleasedResponseGuard(ResponseBody body, RequestInfo request, UnreleasedResponseGuard.Report report)
{
    /// <summary>Where a collected, unreleased response is closed and reported: the session's scheduler and trace stream.</summary>
    internal sealed record Report(IScheduler Scheduler, Action<RequestInfo> Unreleased);

    ~UnreleasedResponseGuard()
    {
        // A body being kept after its subscription ended finishes by itself (bounded); one that ended is done with.
        if (body.IsDone || body.IsDraining) return;
        try
        {
            report.Scheduler.Schedule((Body: body, Request: request, Report: report), static (_, s) =>
            {
                if (s.Body.IsDone) return System.Reactive.Disposables.Disposable.Empty;
                s.Body.Fail();
                s.Report.Unreleased(s.Request);
                return System.Reactive.Disposables.Disposable.Empty;
            });
        }
        catch (Exception)
        {
            // A scheduler that refuses work at shutdown: the socket's own finalizer closes it then.
        }
    }
}
