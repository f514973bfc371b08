using System.Diagnostics.Metrics;

namespace RxHttp.Tests.Diagnostics;

/// <summary>One measurement of RxHttp's Meter, with its tags.</summary>
internal sealed record Recorded(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)
{
    public object? Tag(string name) => Tags.FirstOrDefault(t => t.Key == name).Value;
    public bool Has(string name) => Tags.Any(t => t.Key == name);
}

/// <summary>A <see cref="MeterListener"/> on RxHttp's Meter keeping the measurements tagged with one server port.</summary>
internal sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<Recorded> _values = new();
    private readonly Dictionary<string, Instrument> _instruments = new();

    public MeterRecorder(int port)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name != RxHttpInstrumentation.Name) return;
            lock (_values) _instruments[instrument.Name] = instrument;
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags, port));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags, port));
        _listener.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, int port)
    {
        var copy = tags.ToArray();
        if (!copy.Any(t => t.Key == "server.port" && t.Value is int p && p == port)) return;
        lock (_values) _values.Add(new Recorded(instrument.Name, value, copy));
    }

    public List<Recorded> Of(string instrument)
    {
        lock (_values) return _values.Where(v => v.Instrument == instrument).ToList();
    }

    public double Sum(string instrument) => Of(instrument).Sum(v => v.Value);

    public Instrument Instrument(string name)
    {
        lock (_values) return _instruments[name];
    }

    public void Dispose() => _listener.Dispose();
}
