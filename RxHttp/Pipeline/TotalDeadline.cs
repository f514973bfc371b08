using System.Reactive.Concurrency;
using RxHttp.Transport;

namespace RxHttp;

/// <summary>
/// The Total timeout's state machine, written once: the engine's <see cref="RequestCall"/> and the public
/// <see cref="TotalTimeoutOperator"/> are both this timer (one wheel entry per request, no separate timer object).
/// Before a response is delivered the deadline fails the request (<see cref="OnDeadline"/>); once it is delivered
/// the deadline bounds its body: the body stops the timer when it ends, or is aborted with the timeout. It holds the
/// delivered body, never the response, so a response dropped unread can still be collected by its guard.
/// </summary>
internal abstract class TotalDeadline : TimerWheel.Timer
{
    private TimeSpan _total;
    private ResponseBody? _body;
    private bool _delivered;

    /// <summary>A terminal message went out or the subscription was disposed (under <see cref="Gate"/>).</summary>
    protected bool Finished;

    /// <summary>The lock of the derived step's own state too: the step is private to its pipeline, so it is its own lock.</summary>
    protected object Gate => this;

    /// <summary>Whether the deadline runs (an inactive Total leaves it off).</summary>
    protected bool Timed { get; private set; }

    /// <summary>Whether a response went out (under <see cref="Gate"/>).</summary>
    protected bool WasDelivered => _delivered;

    /// <summary>Starts the deadline <paramref name="delay"/> from the scheduler's now, ceiled as <see cref="Ceiling"/> says.</summary>
    protected void Arm(IScheduler scheduler, TimeSpan delay, TimeSpan ceilThreshold)
    {
        _total = delay;
        Timed = true;
        TimerWheel.For(scheduler).Schedule(Ceiling.Deadline(scheduler.Now, delay, ceilThreshold), this);
    }

    /// <summary>Under <see cref="Gate"/>: <paramref name="response"/> goes out; from here the deadline bounds its body.</summary>
    protected void Deliver(ClientResponse response)
    {
        _delivered = true;
        _body = response.Body;
    }

    /// <summary>After <see cref="Deliver"/>, outside the lock: the body stops the timer when it ends (at once when it has).</summary>
    protected void HandOver(ClientResponse response)
    {
        if (!Timed) return;
        if (response.Body is { } body) body.StopAtEnd(this);
        else Cancel();
    }

    /// <summary>The request ended without a response to bound (an error, completion without one, disposal).</summary>
    protected void StopTimer()
    {
        if (Timed) Cancel();
    }

    protected internal sealed override void Run()
    {
        ResponseBody? body = null;
        lock (Gate)
        {
            if (_delivered)
            {
                body = _body;
                if (body is null) return;
            }
            else if (Finished) return;
            Finished = true;
        }
        var error = new TotalTimeoutError($"Total timeout of {_total.TotalSeconds:0.###} s exceeded");
        // A delivered body's read in flight fails with the timeout, not with a generic disconnect.
        if (body is not null) body.AbortWith(error);
        else OnDeadline(error);
    }

    /// <summary>The deadline passed before a response was delivered: cancel what is in flight and report <paramref name="error"/>.</summary>
    protected abstract void OnDeadline(TotalTimeoutError error);
}
