using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace RxHttp.Extensions.DependencyInjection;

/// <summary>
/// Hands out the registered sessions by name (the <c>IHttpClientFactory</c> pattern). Each name has one session
/// and so one connection pool, shared by everything that asks for it; sessions are closed when the container is
/// disposed. When bound configuration changes (<see cref="IOptionsMonitor{TOptions}"/>), the next call gets a
/// session with the new settings, and requests already running finish on the old one.
/// </summary>
public interface IClientSessionFactory
{
    /// <summary>
    /// The session registered as <paramref name="name"/> (<see cref="Options.DefaultName"/>, "", for <c>AddRxHttp()</c>).
    /// It is shared: do not dispose it (the container does). If it was closed anyway, a new one is made.
    /// </summary>
    /// <exception cref="InvalidOperationException">No session of that name was registered.</exception>
    /// <exception cref="OptionsValidationException">Its settings are invalid.</exception>
    /// <exception cref="ObjectDisposedException">The container was disposed (a session made meanwhile is closed).</exception>
    ClientSession GetSession(string name);
}

internal sealed class ClientSessionFactory : IClientSessionFactory, IAsyncDisposable, IDisposable
{
    private readonly IOptionsMonitor<RxHttpSessionOptions> _options;
    private readonly RegisteredNames _names;
    private readonly ConcurrentDictionary<string, Lazy<ClientSession>> _sessions = new();
    private readonly ConcurrentBag<Lazy<ClientSession>> _retired = new();
    private readonly IDisposable? _changes;
    private readonly ILoggerFactory? _loggers;
    private int _disposed;

    // The logger factory is optional: without one (or with the null one) sessions are not logged and cost nothing for it.
    public ClientSessionFactory(IOptionsMonitor<RxHttpSessionOptions> options, RegisteredNames names, ILoggerFactory? loggers = null)
    {
        _options = options;
        _names = names;
        _loggers = loggers is NullLoggerFactory ? null : loggers;
        // The entry is retired whether or not its session exists yet: one still being made when the change lands is
        // handed out by the GetSession making it, and must close with the container like any other.
        _changes = options.OnChange((_, name) =>
        {
            if (name is not null && _sessions.TryRemove(name, out var old)) _retired.Add(old);
        });
    }

    public ClientSession GetSession(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!_names.Contains(name))
            throw new InvalidOperationException(
                $"No RxHttp session named '{name}' is registered. Registered: {_names.Describe()}. Call services.AddRxHttp(\"{name}\", o => ...).");
        while (true)
        {
            var entry = _sessions.GetOrAdd(name, n => new Lazy<ClientSession>(() => Create(n)));
            var session = entry.Value;
            // A session made while the container was being disposed was not among those Dispose closed. The fence
            // orders reading the flag after the session's publication, as Dispose reads the sessions after setting it.
            if (Interlocked.CompareExchange(ref _disposed, 0, 0) != 0)
            {
                session.Close();
                throw new ObjectDisposedException(GetType().FullName);
            }
            if (!session.Closed) return session;
            // A consumer disposed the shared session (the `using` habit from HttpClient, whose factory shrugs it off):
            // the name gets a new session rather than a dead one for the container's lifetime.
            _sessions.TryRemove(new KeyValuePair<string, Lazy<ClientSession>>(name, entry));
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        }
    }

    private ClientSession Create(string name)
    {
        var options = _options.Get(name);
        var session = options.CreateSession();
        if (_loggers is not null)
            session.LogTo(_loggers.CreateLogger(name.Length == 0 ? "RxHttp.ClientSession" : "RxHttp.ClientSession." + name), options.ShouldRedactHeaderValue);
        return session;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _changes?.Dispose();
        foreach (var s in _sessions.Values)
            if (s.IsValueCreated) s.Value.Close();
        foreach (var s in _retired)
            if (s.IsValueCreated) s.Value.Close();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The names passed to AddRxHttp, so an unknown name fails clearly instead of getting default settings.</summary>
internal sealed class RegisteredNames
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public void Add(string name)
    {
        lock (_names) _names.Add(name);
    }

    public bool Contains(string name)
    {
        lock (_names) return _names.Contains(name);
    }

    public string Describe()
    {
        lock (_names) return _names.Count == 0 ? "none" : string.Join(", ", _names.Select(n => n.Length == 0 ? "(default)" : $"'{n}'"));
    }
}
