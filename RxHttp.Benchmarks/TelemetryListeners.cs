using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RxHttp.Benchmarks;

/// <summary>
/// With RXHTTP_BENCH_LISTEN=1, the run listens to the ActivitySource (every span recorded) and Meter (every
/// instrument on) of RxHttp and of HttpClient (System.Net.Http), as an OpenTelemetry SDK would, so the rows compare
/// what observing each client costs (bytes per request with a listener, against the usual run without one).
/// </summary>
internal static class TelemetryListeners
{
    public static IDisposable? StartIfAsked()
    {
        if (Environment.GetEnvironmentVariable("RXHTTP_BENCH_LISTEN") != "1") return null;
        var activities = new ActivityListener
        {
            ShouldListenTo = s => Observed(s.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(activities);
        var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (Observed(instrument.Meter.Name)) listener.EnableMeasurementEvents(instrument);
            },
        };
        meters.SetMeasurementEventCallback<long>((_, _, _, _) => { });
        meters.SetMeasurementEventCallback<double>((_, _, _, _) => { });
        meters.Start();
        Console.WriteLine("listening to the ActivitySource and Meter of RxHttp and System.Net.Http (RXHTTP_BENCH_LISTEN=1)");
        return new Both(activities, meters);
    }

    private static bool Observed(string name) => name is RxHttpInstrumentation.Name or "System.Net.Http";

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
