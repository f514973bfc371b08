using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace RxHttp.Extensions.DependencyInjection;

/// <summary>
/// Logs a session's requests to an <see cref="ILogger"/> as HttpClient's <c>LoggingHttpMessageHandler</c>
/// (Microsoft.Extensions.Http) does: Information when a request is sent and when its response head arrives or it
/// fails (with the elapsed milliseconds), Trace for the request and response headers, whose values are redacted
/// ("*") unless said otherwise, as .NET 9 does by default. One entry per request: redirect hops are inside it, as
/// they are inside HttpClient's handler. Fed from the session's <see cref="ClientSession.Trace"/> stream.
/// </summary>
public static class ClientSessionLoggingExtensions
{
    private static readonly Action<ILogger, string, string, Exception?> RequestStart = LoggerMessage.Define<string, string>(
        LogLevel.Information, new EventId(100, "RequestStart"), "Sending HTTP request {HttpMethod} {Uri}");

    private static readonly Action<ILogger, double, int, Exception?> RequestEnd = LoggerMessage.Define<double, int>(
        LogLevel.Information, new EventId(101, "RequestEnd"), "Received HTTP response headers after {ElapsedMilliseconds}ms - {StatusCode}");

    private static readonly Action<ILogger, double, Exception?> RequestFailed = LoggerMessage.Define<double>(
        LogLevel.Information, new EventId(104, "RequestFailed"), "HTTP request failed after {ElapsedMilliseconds}ms");

    private static readonly EventId RequestHeader = new(102, "RequestHeader");
    private static readonly EventId ResponseHeader = new(103, "ResponseHeader");

    /// <summary>
    /// Logs every request of <paramref name="session"/> to <paramref name="logger"/> until the result is disposed.
    /// Sessions from <see cref="IClientSessionFactory"/> are logged this way automatically when an
    /// <see cref="ILoggerFactory"/> is registered (category <c>RxHttp.ClientSession</c>, plus <c>.name</c> for a named session).
    /// </summary>
    /// <param name="session">The session to log.</param>
    /// <param name="logger">Where to.</param>
    /// <param name="shouldRedactHeaderValue">
    /// Which header values the Trace entries replace with "*"; null: all of them. It is asked with the name as sent or
    /// received and, for a header HttpClient knows, with HttpClient's spelling ("Authorization" for "authorization"):
    /// the value is hidden when either answer says so.
    /// </param>
    public static IDisposable LogTo(this ClientSession session, ILogger logger, Func<string, bool>? shouldRedactHeaderValue = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(logger);
        var sink = new SessionLogSink(logger, shouldRedactHeaderValue ?? (static _ => true));
        return session.Trace.Subscribe(sink.OnEvent);
    }

    private sealed class SessionLogSink(ILogger logger, Func<string, bool> redact)
    {
        // When each request in flight started (one entry per request id, removed at its end or failure).
        private readonly ConcurrentDictionary<long, DateTimeOffset> _started = new();

        public void OnEvent(TraceEvent e)
        {
            switch (e.Kind)
            {
                case TraceEventKind.RequestStart when _started.TryAdd(e.RequestId, e.Time):
                    if (logger.IsEnabled(LogLevel.Information)) RequestStart(logger, e.Method, RxHttpInstrumentation.RedactUrl(e.Url), null);
                    if (e.Headers is { } sent && logger.IsEnabled(LogLevel.Trace))
                        logger.Log(LogLevel.Trace, RequestHeader, Headers("Request Headers:", sent), null, static (s, _) => s);
                    break;
                case TraceEventKind.RequestEnd when _started.TryRemove(e.RequestId, out var start):
                    RequestEnd(logger, (e.Time - start).TotalMilliseconds, e.Response!.Status, null);
                    if (logger.IsEnabled(LogLevel.Trace))
                        logger.Log(LogLevel.Trace, ResponseHeader, Headers("Response Headers:", e.Response.Headers), null, static (s, _) => s);
                    break;
                case TraceEventKind.RequestException when _started.TryRemove(e.RequestId, out var start):
                    RequestFailed(logger, (e.Time - start).TotalMilliseconds, e.Exception);
                    break;
            }
        }

        private string Headers(string title, HeaderCollection headers)
        {
            var text = new StringBuilder();
            text.AppendLine(title);
            foreach (var (name, value) in headers)
                text.Append(name).Append(": ").Append(Redacted(name) ? "*" : value).AppendLine();
            return text.ToString();
        }

        // Header names are case-insensitive and a request carries them as its code spelt them ("authorization"), while
        // predicates are written as for HttpClient, which hands over its own spelling ("Authorization"): a value is
        // hidden when either spelling says so, so `name == "Authorization"` cannot let a lower-case token through.
        private bool Redacted(string name)
        {
            if (redact(name)) return true;
            var canonical = HeaderNames.Canonical(name);
            return !string.Equals(canonical, name, StringComparison.Ordinal) && redact(canonical);
        }
    }
}
