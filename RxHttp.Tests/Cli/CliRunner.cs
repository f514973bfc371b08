using System.Diagnostics;
using System.Text;
using RxHttp.Cli;

namespace RxHttp.Tests.Cli;

/// <summary>What one run of rxhttp left behind.</summary>
public sealed record CliResult(int Code, byte[] Stdout, string Stderr)
{
    public string Out => Encoding.UTF8.GetString(Stdout);
    public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the CLI's entry point in-process with injected streams, or the built RxHttp.Cli.dll as a process.</summary>
public sealed class CliRunner
{
    public bool Terminal { get; init; }
    public bool ErrorTerminal { get; init; }
    public string? Stdin { get; init; }
    /// <summary>Stdin stays open with nothing typed (a terminal nobody types at), so only the server or Ctrl-C ends a ws session.</summary>
    public bool StdinOpen { get; init; }
    public Stream? Output { get; init; }
    public CancellationToken Interrupt { get; init; }
    public Dictionary<string, string> Env { get; init; } = new();

    public static Task<CliResult> Run(params string[] args) => new CliRunner().RunAsync(args);

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var output = Output ?? new MemoryStream();
        var error = new StringWriter();
        var stdin = Stdin is null ? null : Encoding.UTF8.GetBytes(Stdin);
        var io = new CliIO
        {
            Out = output,
            Error = TextWriter.Synchronized(error),
            In = StdinOpen ? new SilentReader() : new StringReader(Stdin ?? ""),
            InStream = stdin is null ? null : new MemoryStream(stdin),
            OutIsTerminal = Terminal,
            ErrorIsTerminal = ErrorTerminal,
            InIsTerminal = Stdin is null && !StdinOpen,
            Env = name => Env.TryGetValue(name, out var v) ? v : null,
            Interrupt = Interrupt,
        };
        var code = await Task.Run(() => CliApp.RunAsync(args, io)).WaitAsync(TimeSpan.FromSeconds(60));
        var bytes = output is MemoryStream ms ? ms.ToArray() : output is SignalStream ss ? ss.ToArray() : Array.Empty<byte>();
        return new CliResult(code, bytes, error.ToString());
    }

    /// <summary>The CLI built next to the tests (the project reference copies it), run with `dotnet`.</summary>
    public static string DllPath
    {
        get
        {
            var here = Path.Combine(AppContext.BaseDirectory, "RxHttp.Cli.dll");
            if (File.Exists(here) && File.Exists(Path.ChangeExtension(here, ".runtimeconfig.json"))) return here;
            throw new FileNotFoundException("RxHttp.Cli.dll with its runtimeconfig was not copied next to the tests", here);
        }
    }

    public static Process Start(string? stdin, params string[] args) => StartIn(null, stdin, args);

    /// <summary>
    /// Whether this test process runs with SIGINT ignored: a POSIX shell starts a background job (<c>./test.sh &amp;</c>,
    /// nohup) that way, children inherit it, and the runtime keeps an inherited SIG_IGN, so the CLI would never see
    /// the tests' Ctrl-C. Then the CLI is started through a one-line exec that restores the default first, as a
    /// terminal's shell would have it.
    /// </summary>
    private static readonly bool SigIntIgnored = OperatingSystem.IsLinux() && ReadSigIgn() is { } ignored && (ignored & (1UL << (2 - 1))) != 0;

    private static ulong? ReadSigIgn()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
                return ulong.Parse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return null;
    }

    /// <summary>Starts the CLI with its stdin left open, as a terminal's would be while nobody types.</summary>
    public static Process StartWithOpenInput(params string[] args) => StartIn(null, null, args, closeInput: false);

    public static Process StartIn(string? workingDirectory, string? stdin, params string[] args) => StartIn(workingDirectory, stdin, args, closeInput: true);

    private static Process StartIn(string? workingDirectory, string? stdin, string[] args, bool closeInput)
    {
        var psi = new ProcessStartInfo(SigIntIgnored ? "python3" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (SigIntIgnored)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp('dotnet', ['dotnet'] + sys.argv[1:])");
        }
        psi.ArgumentList.Add(DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        if (stdin is not null) p.StandardInput.Write(stdin);
        if (closeInput) p.StandardInput.Close();
        return p;
    }

    public static async Task<CliResult> RunProcessAsync(params string[] args)
    {
        using var p = Start(null, args);
        return await Finish(p);
    }

    public static async Task<CliResult> Finish(Process p)
    {
        var stdout = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(true); throw; }
        await copy;
        return new CliResult(p.ExitCode, stdout.ToArray(), await stderr);
    }
}

/// <summary>A reader that never yields a line: each read waits until it is cancelled.</summary>
public sealed class SilentReader : TextReader
{
    public override async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return null;
    }

    public override Task<string?> ReadLineAsync() => ReadLineAsync(CancellationToken.None).AsTask();
}

/// <summary>An output stream a test can wait on: completes <see cref="Seen"/> once the text written contains a marker.</summary>
public sealed class SignalStream(string marker) : Stream
{
    private readonly MemoryStream _inner = new();
    public TaskCompletionSource Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public byte[] ToArray()
    {
        lock (_inner) return _inner.ToArray();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_inner)
        {
            _inner.Write(buffer);
            if (Encoding.UTF8.GetString(_inner.ToArray()).Contains(marker)) Seen.TrySetResult();
        }
    }

    public override void Flush() { }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _inner.Length;
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
