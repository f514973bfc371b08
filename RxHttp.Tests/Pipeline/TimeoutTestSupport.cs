using System.Threading.Channels;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Pipeline;

/// <summary>Seconds as exact ticks, and a raw server that writes only when the test says so.</summary>
internal static class Ticks
{
    public static long S(double seconds) => (long)Math.Round(seconds * TimeSpan.TicksPerSecond);
    public static TimeSpan Span(double seconds) => TimeSpan.FromTicks(S(seconds));

    /// <summary>
    /// Waits until a timer is due at <paramref name="expected"/>, checks that nothing reached
    /// <paramref name="observer"/> one tick before it, and returns the one notification, which must come at exactly it.
    /// </summary>
    public static async Task<System.Reactive.Notification<T>> FiresExactlyAt<T>(SocketTestScheduler scheduler, ITestableObserver<T> observer, long expected, string what)
    {
        await Wait.Until(() => scheduler.IsPending(expected), what: what + " timer to be armed");
        scheduler.AdvanceTo(expected - 1);
        NUnit.Framework.Assert.That(observer.Messages, NUnit.Framework.Is.Empty);
        scheduler.AdvanceTo(expected);
        await Wait.Until(() => observer.Messages.Count == 1, what: what);
        NUnit.Framework.Assert.That(observer.Messages[0].Time, NUnit.Framework.Is.EqualTo(expected));
        return observer.Messages[0].Value;
    }
}

/// <summary>
/// A RawServer that reads one request and then writes each string the test posts, in order, so the test can
/// advance virtual time between chunks. Posting null closes the connection.
/// </summary>
internal sealed class SteppedServer : IAsyncDisposable
{
    private readonly Channel<string?> _steps = Channel.CreateUnbounded<string?>();
    private readonly TaskCompletionSource _requestSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _written;

    public SteppedServer()
    {
        Server = new RawServer(async c =>
        {
            if (await c.ReadRequestAsync() is null) return;
            _requestSeen.TrySetResult();
            // Watch for the client closing its side while the test decides what to write.
            _ = Task.Run(async () =>
            {
                try { while (await c.ReadRequestAsync() is not null) { } }
                catch { Server!.ClientClosed.TrySetResult(true); }
            });
            await foreach (var step in _steps.Reader.ReadAllAsync())
            {
                if (step is null) return;
                await c.WriteAsync(step);
                Interlocked.Increment(ref _written);
            }
        });
    }

    public RawServer Server { get; }
    public string Url(string path = "/") => Server.Url(path);
    public Task RequestSeen => _requestSeen.Task;
    public int Written => Volatile.Read(ref _written);

    public async Task SendAsync(string data)
    {
        var before = Written;
        _steps.Writer.TryWrite(data);
        await Wait.Until(() => Written > before, what: "the server to write");
    }

    public async ValueTask DisposeAsync()
    {
        _steps.Writer.TryComplete();
        await Server.DisposeAsync();
    }

    public static string Chunk(string data) => $"{data.Length:x}\r\n{data}\r\n";
    public const string ChunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n";
}
