using System.Text;

namespace RxHttp.Cli;

/// <summary>The whole command, callable in-process: parse, run, map every failure to an exit code and one line.</summary>
public static class CliApp
{
    /// <summary>Runs <c>rxhttp</c> with <paramref name="args"/> on <paramref name="io"/> and returns the exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliIO io)
    {
        CliSettings? settings = null;
        try
        {
            var help = new StreamWriter(io.Out, new UTF8Encoding(false), leaveOpen: true);
            settings = CommandLine.Parse(args, help);
            help.Flush();
            if (settings is null) return Failure.Ok;
            return settings.WebSocket
                ? await WsCommand.RunAsync(settings, io).ConfigureAwait(false)
                : await HttpCommand.RunAsync(settings, io).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var (code, message) = Failure.Describe(e, io.Interrupt.IsCancellationRequested);
            try
            {
                io.Error.WriteLine($"rxhttp: {(code == Failure.Interrupted ? "" : "error: ")}{message}");
                if (settings?.Debug == true) io.Error.WriteLine(e.ToString());
                io.Error.Flush();
            }
            catch (IOException) { /* stderr is gone too */ }
            return code;
        }
        finally
        {
            try { io.Out.Flush(); } catch (IOException) { /* a closed pipe: nothing more to say */ }
        }
    }
}
