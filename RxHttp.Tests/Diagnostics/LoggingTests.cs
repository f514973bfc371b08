using System.Reactive.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NUnit.Framework;
using RxHttp.Extensions.DependencyInjection;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Diagnostics;

/// <summary>
/// Request logging through ILogger, as HttpClientFactory's LoggingHttpMessageHandler logs: Information for the
/// start and the end (or failure) with the elapsed time, Trace for the headers with their values redacted.
/// </summary>
[TestFixture]
public class LoggingTests : KestrelFixture
{
    [Test]
    public async Task A_session_from_the_container_logs_start_headers_and_end_at_httpclients_levels()
    {
        var logs = new TestLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddRxHttp("local", o => o.Headers["X-Secret"] = "s3cret");
        await using var provider = services.BuildServiceProvider();
        var session = provider.GetRequiredService<IClientSessionFactory>().GetSession("local");
        (await session.Get(Server.Url("redirect/1?key=v"))).Release();

        var entries = logs.Entries.Where(e => e.Category == "RxHttp.ClientSession.local").ToList();
        Assert.That(entries.Select(e => (e.Level, e.EventId)), Is.EqualTo(new[]
        {
            (LogLevel.Information, 100), (LogLevel.Trace, 102), (LogLevel.Information, 101), (LogLevel.Trace, 103),
        }), "one start and one end per request, the redirect hop inside it");
        Assert.That(entries[0].Message, Is.EqualTo($"Sending HTTP request GET http://127.0.0.1:{Server.Port}/redirect/1?*"));
        Assert.That(entries[1].Message, Does.StartWith("Request Headers:").And.Contains("X-Secret: *").And.Not.Contains("s3cret"));
        Assert.That(entries[2].Message, Does.Match(@"^Received HTTP response headers after \d+(\.\d+)?ms - 200$"));
        Assert.That(entries[3].Message, Does.StartWith("Response Headers:").And.Contains("Content-Type: *"));
    }

    [Test]
    public void A_failed_request_is_logged_with_its_exception()
    {
        var logs = new TestLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        using var session = new ClientSession();
        using var _ = session.LogTo(factory.CreateLogger("test"));
        Assert.ThrowsAsync<ClientConnectorError>(async () => await session.Get("http://127.0.0.1:1/"));
        var failed = logs.Entries.Last();
        Assert.That((failed.Level, failed.EventId), Is.EqualTo((LogLevel.Information, 104)));
        Assert.That(failed.Message, Does.StartWith("HTTP request failed after "));
        Assert.That(failed.Exception, Is.InstanceOf<ClientConnectorError>());
    }

    [Test]
    public async Task Header_values_the_predicate_clears_are_logged_as_they_are()
    {
        var logs = new TestLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        using var session = new ClientSession(new ClientSessionOptions { Headers = [new("X-Public", "visible"), new("X-Secret", "hidden")] });
        using var _ = session.LogTo(factory.CreateLogger("test"), name => name != "X-Public");
        (await session.Get(Server.Url("hello"))).Release();
        var headers = logs.Entries.Single(e => e.EventId == 102).Message;
        Assert.That(headers, Does.Contain("X-Public: visible").And.Contains("X-Secret: *"));
    }

    [Test]
    public async Task A_predicate_written_for_httpclients_header_names_redacts_them_in_any_case()
    {
        // HttpClient hands its predicate "Authorization" however the header was added, so predicates name that spelling.
        var logs = new TestLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        using var session = new ClientSession();
        using var _ = session.LogTo(factory.CreateLogger("test"), name => name is "Authorization" or "Cookie" or "Proxy-Authorization");
        var headers = new RequestOptions { Headers = [new("authorization", "Bearer t0ken"), new("COOKIE", "sid=s3ss"), new("proxy-authorization", "Basic cHc="), new("x-trace", "kept")] };
        (await session.Get(Server.Url("echo"), headers)).Release();
        var sent = logs.Entries.Single(e => e.EventId == 102).Message;
        Assert.That(sent, Does.Contain("authorization: *").And.Contain("COOKIE: *").And.Contain("proxy-authorization: *").And.Contain("x-trace: kept"));
        Assert.That(sent, Does.Not.Contain("t0ken").And.Not.Contain("s3ss").And.Not.Contain("cHc="));
    }

    [Test]
    public async Task Without_a_logger_factory_sessions_from_the_container_log_nothing_and_still_work()
    {
        var services = new ServiceCollection();
        services.AddRxHttp("local", _ => { });
        await using var provider = services.BuildServiceProvider();
        var session = provider.GetRequiredService<IClientSessionFactory>().GetSession("local");
        var r = await session.Get(Server.Url("hello"));
        Assert.That(await r.Text(), Is.EqualTo(KestrelServer.Hello));
    }
}

internal sealed record LogEntry(string Category, LogLevel Level, int EventId, string Message, Exception? Exception);

/// <summary>Keeps every log entry, in order.</summary>
internal sealed class TestLoggerProvider : ILoggerProvider
{
    private readonly List<LogEntry> _entries = new();

    public List<LogEntry> Entries
    {
        get { lock (_entries) return _entries.ToList(); }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(TestLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._entries) owner._entries.Add(new LogEntry(category, logLevel, eventId.Id, formatter(state, exception), exception));
        }
    }
}
