using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RxHttp.Benchmarks;

/// <summary>
/// With RXHTTP_BENCH_LISTEN=1, the run listens to RxHttp's ActivitySource (every span recorded) and Meter (every
/// instrument on), as an OpenTelemetry SDK would, so the rows show what observing RxHttp costs (bytes per request
/// with a listener, against the usual run without one).
/// </summary>
internal static class TelemetryListeners
{
    public static IDisposable? StartIfAsked()
    {
        if (Environment.GetEnvironmentVariable("RXHTTP_BENCH_LISTEN") != "1") return null;
        var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == RxHttpInstrumentation.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(activities);
        var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RxHttpInstrumentation.Name) listener.EnableMeasurementEvents(instrument);
            },
        };
        meters.SetMeasurementEventCallback<long>((_, _, _, _) => { });
        meters.SetMeasurementEventCallback<double>((_, _, _, _) => { });
        meters.Start();
        Console.WriteLine("listening to RxHttp's ActivitySource and Meter (RXHTTP_BENCH_LISTEN=1)");
        return new Both(activities, meters);
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
