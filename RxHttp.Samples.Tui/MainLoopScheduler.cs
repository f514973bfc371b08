using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using Terminal.Gui.App;

namespace RxHttp.Samples.Tui;

/// <summary>
/// An Rx scheduler over Terminal.Gui's main loop, which has none of its own: every action runs on the UI thread,
/// through <see cref="IApplication.AddTimeout"/> (thread-safe; a zero delay runs on the next loop iteration).
/// <c>ObserveOn</c> it before touching a view, and use it for UI timers (debounce, sampling) so they fire there too.
/// </summary>
public sealed class MainLoopScheduler(IApplication app) : LocalScheduler
{
    /// <inheritdoc />
    public override IDisposable Schedule<TState>(TState state, TimeSpan dueTime, Func<IScheduler, TState, IDisposable> action)
    {
        // Always queued, never run inline, so ObserveOn cannot re-enter a view that is mid-update.
        var result = new SingleAssignmentDisposable();
        var token = app.AddTimeout(Scheduler.Normalize(dueTime), () =>
        {
            if (!result.IsDisposed) result.Disposable = action(this, state);
            return false;
        });
        return StableCompositeDisposable.Create(result, Disposable.Create(() => { if (token is not null) app.RemoveTimeout(token); }));
    }
}
