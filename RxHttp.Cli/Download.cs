using System.Diagnostics;
using System.Globalization;
using System.Reactive.Linq;
using Spectre.Console;

namespace RxHttp.Cli;

/// <summary>
/// -o FILE / --download / --continue: the body goes to a file, a Spectre progress bar (driven by the response's
/// <see cref="ClientResponse.DownloadProgress"/>) goes to stderr, and an interrupted or refused resume is always said.
/// </summary>
internal static class Download
{
    public sealed class Target
    {
        public required string Path { get; init; }
        public bool Named { get; init; }
        public long Offset { get; init; }
        public List<KeyValuePair<string, string>> Headers { get; } = new();
    }

    public static Target Plan(CliSettings s, string url)
    {
        var named = s.Output is not null;
        var path = s.Output ?? NameFromUrl(url);
        var offset = s.Continue && File.Exists(path) ? new FileInfo(path).Length : 0;
        var t = new Target { Path = path, Named = named, Offset = offset };
        // Byte ranges count the bytes as stored: ask for them unencoded, and do not decompress on the fly.
        t.Headers.Add(new("Accept-Encoding", "identity"));
        if (offset > 0) t.Headers.Add(new("Range", $"bytes={offset.ToString(CultureInfo.InvariantCulture)}-"));
        return t;
    }

    public static async Task<int> RunAsync(Target plan, ClientResponse response, CliSettings s, CliIO io, CancellationToken ct)
    {
        var heads = new Printer(new TextWriterStream(io.Error), colors: io.ErrorIsTerminal, format: false);
        if (s.Verbose && !s.Quiet) heads.RequestHead(response.RequestInfo, response.RequestInfo.Url.PathAndQuery);
        if ((s.Verbose || s.HeadersOnly) && !s.Quiet) heads.ResponseHead(response);

        var offset = plan.Offset;
        if (response.Status == 416 && offset > 0)
        {
            response.Release();
            var complete = TotalFromContentRange(response.Headers.Get("Content-Range")) == offset;
            io.Error.WriteLine(complete
                ? $"rxhttp: {plan.Path} is already complete ({offset} bytes)"
                : $"rxhttp: error: the server cannot resume {plan.Path} from byte {offset} (416 Range Not Satisfiable); delete it to start again");
            return complete ? Failure.Ok : Failure.ClientStatus;
        }
        if (response.Status is < 200 or >= 300)
        {
            response.Release();
            io.Error.WriteLine($"rxhttp: error: HTTP {response.Status} {response.Reason}; nothing was written to {plan.Path}");
            return Failure.ForStatus(response.Status) is var c and > 0 ? c : Failure.Error;
        }

        var append = false;
        if (offset > 0)
        {
            if (response.Status == 206 && StartFromContentRange(response.Headers.Get("Content-Range")) == offset)
            {
                append = true;
            }
            else if (response.Status == 206)
            {
                response.Release();
                throw new ClientPayloadError($"the server answered a range other than bytes {offset}- ({response.Headers.Get("Content-Range")}); {plan.Path} is unchanged");
            }
            else
            {
                io.Error.WriteLine($"rxhttp: the server does not resume downloads (it answered {response.Status} with the whole body); downloading {plan.Path} again from the start");
            }
        }

        var path = plan.Path;
        if (!plan.Named && !s.Continue)
        {
            // The server names the file, so no directory part and no leading dot: a hidden .bashrc or .npmrc dropped into
            // the working directory would be read by the next shell or tool (httpie strips them too).
            if (response.ContentDisposition?.FileName is { Length: > 0 } fromServer
                && System.IO.Path.GetFileName(fromServer).Trim().TrimStart('.') is { Length: > 0 } safe) path = safe;
            path = Unique(path);
        }
        var start = append ? offset : 0;
        long? total = response.ContentLength is { } len ? start + len : null;
        var written = start;
        var watch = Stopwatch.StartNew();
        var file = new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        try
        {
            Task Copy() => response.BorrowedContent.ForEachAsync(chunk =>
            {
                file.Write(chunk.Span);
                written += chunk.Length;
            }, ct);

            if (io.ErrorIsTerminal && !s.Quiet) await WithProgressBar(io, path, response, start, total, Copy).ConfigureAwait(false);
            else await Copy().ConfigureAwait(false);
            await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            var of = total is { } t ? $" of {t}" : "";
            io.Error.WriteLine($"rxhttp: download incomplete: {path} holds {written}{of} bytes; run the same command with --continue to resume");
            throw;
        }
        await file.DisposeAsync().ConfigureAwait(false);
        var seconds = Math.Max(watch.Elapsed.TotalSeconds, 1e-3);
        if (!s.Quiet) io.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rxhttp: saved {path}: {written} bytes ({written - start} received in {seconds:0.###} s, {Human((written - start) / seconds)}/s)"));
        return Failure.Ok;
    }

    private static async Task WithProgressBar(CliIO io, string path, ClientResponse response, long start, long? total, Func<Task> copy)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(io.Error),
        });
        console.Profile.Width = io.Width;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                     new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(System.IO.Path.GetFileName(path)), maxValue: total ?? 1);
                task.IsIndeterminate = total is null;
                task.Value = start;
                using var progress = response.DownloadProgress.Subscribe(p => task.Value = start + p.Bytes);
                await copy().ConfigureAwait(false);
                if (total is null) task.MaxValue = task.Value;
                task.StopTask();
            }).ConfigureAwait(false);
    }

    private static string NameFromUrl(string url)
    {
        var name = System.IO.Path.GetFileName(Url.Parse(url).Path.TrimEnd('/'));
        name = Uri.UnescapeDataString(name);
        return name.Length == 0 || name.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0 ? "index.html" : name;
    }

    private static string Unique(string path)
    {
        if (!File.Exists(path)) return path;
        for (var i = 1; ; i++)
            if (!File.Exists($"{path}-{i}")) return $"{path}-{i}";
    }

    // Content-Range: bytes START-END/TOTAL, or bytes */TOTAL for 416.
    private static long? StartFromContentRange(string? value) =>
        value is not null && value.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase) && value.IndexOf('-') is var dash and > 6
        && long.TryParse(value.AsSpan(6, dash - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? start : null;

    private static long? TotalFromContentRange(string? value) =>
        value is not null && value.LastIndexOf('/') is var slash and >= 0
        && long.TryParse(value.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var total) ? total : null;

    private static string Human(double bytes) => bytes switch
    {
        >= 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 30):0.0} GiB"),
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 20):0.0} MiB"),
        >= 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 10):0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes:0} B"),
    };

    /// <summary>Lets the head printer write to stderr, which is a TextWriter.</summary>
    private sealed class TextWriterStream(TextWriter writer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => writer.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) => writer.Write(System.Text.Encoding.UTF8.GetString(buffer));
    }
}
