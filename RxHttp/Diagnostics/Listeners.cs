using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RxHttp;

/// <summary>
/// The calls through which RxHttp's telemetry reaches listeners (an <see cref="ActivityListener"/>'s callbacks, a
/// <see cref="MeterListener"/>'s), each guarded. They run on socket threads and inside the pool's release and close,
/// where a listener's exception ended the process or left a connection half closed. HttpClient lets such an
/// exception fail SendAsync; here there is mostly no caller to hand it to, so it is dropped, as a trace observer's
/// is, and the request or connection goes on as if nobody had listened.
/// </summary>
internal static class Listeners
{
    // A measurement whose listener threw counts as made: that listener has seen it, so the matching -1 is sent too.
    public static void Add(UpDownCounter<long> instrument, long delta, in TagList tags)
    {
        try
        {
            instrument.Add(delta, tags);
        }
        catch (Exception)
        {
            // A listener's.
        }
    }

    public static void Add(Counter<long> instrument, long delta, in TagList tags)
    {
        try
        {
            instrument.Add(delta, tags);
        }
        catch (Exception)
        {
            // A listener's.
        }
    }

    public static void Record(Histogram<double> instrument, double value, in TagList tags)
    {
        try
        {
            instrument.Record(value, tags);
        }
        catch (Exception)
        {
            // A listener's.
        }
    }

    /// <summary>Starts <paramref name="span"/>; an ActivityStarted listener that throws does so once it is started and current.</summary>
    public static void Start(Activity? span)
    {
        try
        {
            span?.Start();
        }
        catch (Exception)
        {
            // A listener's: the span runs on, and is stopped with its hop.
        }
    }

    /// <summary>Stops <paramref name="span"/>; an ActivityStopped listener that throws does so before the span's parent is made current again.</summary>
    public static void Stop(Activity span)
    {
        try
        {
            span.Stop();
        }
        catch (Exception)
        {
            if (ReferenceEquals(Activity.Current, span)) Activity.Current = span.Parent is { IsStopped: false } parent ? parent : null;
        }
    }
}
