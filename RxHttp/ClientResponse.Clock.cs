using System.Reactive.Concurrency;

namespace RxHttp;

public sealed partial class ClientResponse
{
    // A streaming read of a body on a virtual clock stays on the clock's thread (see StreamingObservable.Checkpoint).
    internal bool OnVirtualClock => _extras?.Clock is { } clock && Transport.TimerWheel.IsVirtualTime(clock);

    /// <summary>The clock of the request this answers; kept only when it is not the default one, which most responses have.</summary>
    internal IScheduler? Clock
    {
        get => _extras?.Clock;
        init
        {
            if (value is not null and not DefaultScheduler) GetExtras().Clock = value;
        }
    }
}
