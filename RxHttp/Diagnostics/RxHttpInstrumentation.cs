using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RxHttp;

/// <summary>
/// The names under which RxHttp reports to OpenTelemetry (and to any <see cref="ActivityListener"/> or
/// <see cref="MeterListener"/>): one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>. Spans and the <c>http.client.*</c> instruments follow the OpenTelemetry semantic conventions
/// for HTTP clients as System.Net.Http emits them; the <c>rxhttp.*</c> instruments are RxHttp's own.
/// </summary>
public static class RxHttpInstrumentation
{
    /// <summary>
    /// "RxHttp": the name of the library's <see cref="ActivitySource"/> and <see cref="Meter"/>, what
    /// <c>AddSource</c> and <c>AddMeter</c> take. Not "System.Net.Http": that is HttpClient's, and a dashboard
    /// should be able to tell the two clients apart (or select both).
    /// </summary>
    public const string Name = "RxHttp";

    /// <summary>The operation name of a request span (its display name is the method, as HttpClient's).</summary>
    public const string RequestActivityName = "RxHttp.HttpRequestOut";

    /// <summary>
    /// <paramref name="url"/> as spans carry it in <c>url.full</c> and the request logs show it, redacted as .NET 9+
    /// redacts: the user info dropped and the query's value replaced by "*" (the AppContext switch
    /// <c>System.Net.Http.DisableUriRedaction</c> keeps the query, as it does for HttpClient).
    /// </summary>
    public static string RedactUrl(Url url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return HttpSemantics.RedactedUrl(url);
    }
}

/// <summary>The library's one ActivitySource and Meter and the instruments made from it, created on first use.</summary>
internal static class Telemetry
{
    private static readonly string? Version = typeof(Telemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(RxHttpInstrumentation.Name, Version);
    public static readonly Meter Meter = new(RxHttpInstrumentation.Name, Version);

    // The bucket boundaries OpenTelemetry's conventions advise (and System.Net.Http passes as advice).
    private static readonly double[] ShortSeconds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    private static readonly double[] LongSeconds = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

    // Seconds, with the advised bucket boundaries.
    private static Histogram<double> Seconds(string name, string description, double[] buckets) =>
        Meter.CreateHistogram<double>(name, "s", description, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = buckets });

    public static readonly Histogram<double> RequestDuration = Seconds(
        "http.client.request.duration", "Duration of HTTP client requests.", ShortSeconds);

    public static readonly UpDownCounter<long> ActiveRequests = Meter.CreateUpDownCounter<long>(
        "http.client.active_requests", "{request}", "Number of outbound HTTP requests that are currently active on the client.");

    public static readonly Histogram<double> TimeInQueue = Seconds(
        "http.client.request.time_in_queue", "The amount of time requests spent on a queue waiting for an available connection.", ShortSeconds);

    public static readonly UpDownCounter<long> OpenConnections = Meter.CreateUpDownCounter<long>(
        "http.client.open_connections", "{connection}", "Number of outbound HTTP connections that are currently active or idle on the client.");

    public static readonly Histogram<double> ConnectionDuration = Seconds(
        "http.client.connection.duration", "The duration of successfully established outbound HTTP connections.", LongSeconds);

    // RxHttp's own figures.
    public static readonly UpDownCounter<long> PoolWaiting = Meter.CreateUpDownCounter<long>(
        "rxhttp.pool.waiting_requests", "{request}", "Requests waiting in the connection pool's queue for a slot (Limit, LimitPerHost).");

    public static readonly Counter<long> PoolReused = Meter.CreateCounter<long>(
        "rxhttp.pool.reused_connections", "{connection}", "Requests served by an idle keep-alive connection from the pool rather than a new one.");

    public static readonly UpDownCounter<long> WebSocketsActive = Meter.CreateUpDownCounter<long>(
        "rxhttp.websocket.active", "{connection}", "Open websocket connections.");

    public static readonly Counter<long> WebSocketMessagesSent = Meter.CreateCounter<long>(
        "rxhttp.websocket.messages_sent", "{message}", "Websocket data messages sent (text and binary).");

    public static readonly Counter<long> WebSocketMessagesReceived = Meter.CreateCounter<long>(
        "rxhttp.websocket.messages_received", "{message}", "Websocket data messages received (text and binary).");

    /// <summary>
    /// Whether a request needs its telemetry object: someone listens to the source, a span is active (its context
    /// is propagated, as HttpClient does), or a per-request instrument is on. Field reads only: the request path
    /// asks it once per request.
    /// </summary>
    public static bool RequestsObserved =>
        Source.HasListeners() || Activity.Current is not null || RequestDuration.Enabled || ActiveRequests.Enabled
        || TimeInQueue.Enabled || PoolWaiting.Enabled || PoolReused.Enabled;
}
