using System.Runtime.InteropServices;

namespace RxHttp.Cli;

/// <summary>
/// The process's streams and terminal facts, injected so that tests can run the whole command in-process with
/// their own stdout, stderr and stdin and decide whether each counts as a terminal.
/// </summary>
public sealed class CliIO
{
    /// <summary>Where response bodies go: raw bytes, never re-encoded.</summary>
    public required Stream Out { get; init; }
    /// <summary>Messages, warnings, the progress bar and (in download mode) heads.</summary>
    public required TextWriter Error { get; init; }
    /// <summary>Request bodies piped in and websocket lines typed.</summary>
    public required TextReader In { get; init; }
    /// <summary>The raw standard input, for a binary request body.</summary>
    public Stream? InStream { get; init; }
    /// <summary>Colour and formatting are on by default only when stdout is a terminal.</summary>
    public bool OutIsTerminal { get; init; }
    /// <summary>The progress bar is drawn only when stderr is a terminal.</summary>
    public bool ErrorIsTerminal { get; init; }
    /// <summary>stdin is read as a request body only when it is not a terminal.</summary>
    public bool InIsTerminal { get; init; } = true;
    /// <summary>Width for the progress bar.</summary>
    public int Width { get; init; } = 80;
    /// <summary>Environment lookup (RXHTTP_CONFIG_DIR, NO_COLOR, HOME), replaceable by tests.</summary>
    public Func<string, string?> Env { get; init; } = Environment.GetEnvironmentVariable;
    /// <summary>Cancelled when the user presses Ctrl-C (SIGINT).</summary>
    public CancellationToken Interrupt { get; init; }

    /// <summary>The real console; Ctrl-C cancels <paramref name="interrupt"/> instead of killing the process.</summary>
    public static CliIO FromConsole(CancellationToken interrupt) => new()
    {
        Out = Console.OpenStandardOutput(),
        Error = new StreamWriter(Console.OpenStandardError()) { AutoFlush = true },
        In = new StreamReader(Console.OpenStandardInput()),
        InStream = Console.OpenStandardInput(),
        OutIsTerminal = !Console.IsOutputRedirected,
        ErrorIsTerminal = !Console.IsErrorRedirected,
        InIsTerminal = !Console.IsInputRedirected,
        Width = SafeWidth(),
        Interrupt = interrupt,
    };

    private static int SafeWidth()
    {
        try { return Console.IsErrorRedirected ? 80 : Math.Max(40, Console.WindowWidth); }
        catch (IOException) { return 80; }
    }
}

/// <summary>Turns SIGINT into a cancellation so that the request's subscription is disposed instead of the process killed.</summary>
internal sealed class InterruptSignal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _registration;

    public InterruptSignal() =>
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx =>
        {
            // A second Ctrl-C while cleaning up kills the process as usual.
            if (_cts.IsCancellationRequested) return;
            ctx.Cancel = true;
            _cts.Cancel();
        });

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        _registration.Dispose();
        _cts.Dispose();
    }
}
