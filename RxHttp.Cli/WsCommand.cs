using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;

namespace RxHttp.Cli;

/// <summary>
/// <c>rxhttp ws URL</c>: every line read from stdin is sent as a text message; every message received is printed
/// as it arrives (text as a line, binary raw when piped). End of input closes the socket politely; the server's
/// CLOSE ends the run; Ctrl-C closes and exits 130.
/// </summary>
internal static class WsCommand
{
    public static async Task<int> RunAsync(CliSettings s, CliIO io)
    {
        var ct = io.Interrupt;
        var url = HttpCommand.NormaliseUrl(s.Url, "ws");
        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) url = "ws://" + url[7..];
        else if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) url = "wss://" + url[8..];
        var items = RequestItems.Parse(s.Items);
        if (items.HasData) throw new UsageException("ws takes only Header:value and name==value items; type the messages instead");
        var headers = new List<KeyValuePair<string, string>>(items.Headers);
        if (s.Bearer is { } token) headers.Add(new("Authorization", "Bearer " + token));
        // The handshake sends Basic credentials up front: taking --auth-type digest as Basic would put in the clear
        // the password the user chose digest to keep off the wire.
        if (s.Auth is not null && s.AuthType == "digest") throw new UsageException("ws supports --auth with Basic only (or --bearer), not --auth-type digest");
        var auth = s.Auth is { } a && HttpCommand.Basic(a) is var basic ? new System.Net.NetworkCredential(basic.Login, basic.Password) : null;

        var cookies = CookieSession.Open(s, io, url);
        await using var session = SessionFactory.Create(s, null, cookies.Jar);
        var ws = await session.WsConnectAsync(url, new WsConnectOptions
        {
            Headers = headers,
            Params = items.Query.Count > 0 ? new QueryParams(items.Query) : null,
            Auth = auth,
            Proxy = s.Proxy is { } p ? Url.Parse(HttpCommand.NormaliseUrl(p, "http")) : null,
            Tls = SessionFactory.Tls(s),
        }, ct).ConfigureAwait(false);
        await using var socket = ws;
        cookies.Save();

        var colors = (s.Pretty ?? (io.OutIsTerminal ? "all" : "none")) is "all" or "colors" && io.Env("NO_COLOR") is null or "";
        var printer = new Printer(io.Out, colors, format: false);
        if (io.ErrorIsTerminal) io.Error.WriteLine($"rxhttp: connected to {url}; type lines to send them, Ctrl-D to close");

        // Set before we send our CLOSE (Ctrl-C, or the end of input): the server's echo of it is not news.
        var weClosed = 0;
        var ended = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var messages = ws.Messages.Subscribe(
            m =>
            {
                switch (m.Type)
                {
                    case WsMsgType.Text:
                        printer.Text(m.Text! + "\n", io.OutIsTerminal ? "\u001b[32m" : null);
                        break;
                    case WsMsgType.Binary when io.OutIsTerminal:
                        printer.Text($"[binary message, {m.Data.Length} bytes]\n", "\u001b[33m");
                        break;
                    case WsMsgType.Binary:
                        printer.Raw(m.Data.Span);
                        break;
                    case WsMsgType.Close when Volatile.Read(ref weClosed) == 0:
                        io.Error.WriteLine($"rxhttp: the server closed the websocket ({m.CloseCode}{(string.IsNullOrEmpty(m.Text) ? "" : " " + m.Text)})");
                        break;
                }
                printer.Flush();
            },
            e => ended.TrySetResult(e),
            () => ended.TrySetResult(null));

        var typing = SendLines(ws, io, ct);
        try
        {
            // Console stdin ignores the token once a read is blocked, so Ctrl-C must be raced in on its own.
            var interrupted = Task.Delay(Timeout.Infinite, ct);
            var first = await Task.WhenAny(ended.Task, typing, interrupted).ConfigureAwait(false);
            if (first == interrupted)
            {
                _ = typing.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                ct.ThrowIfCancellationRequested();
            }
            if (first == typing)
            {
                await typing.ConfigureAwait(false);
                // End of input: close politely and wait for the server's answer (WsClose bounds the wait).
                Volatile.Write(ref weClosed, 1);
                await ws.Close().DefaultIfEmpty().ToTask(CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                // The server ended the conversation; a read still blocked on stdin is left to the process exit.
                _ = typing.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            }
            if (await ended.Task.WaitAsync(ct).ConfigureAwait(false) is { } failure) throw failure;
            return Failure.Ok;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Volatile.Write(ref weClosed, 1);
            try { await ws.Close(1001, "interrupted").DefaultIfEmpty().ToTask(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false); }
            catch (Exception e) when (e is ClientError or TimeoutException or IOException) { /* leaving anyway */ }
            throw;
        }
    }

    private static async Task SendLines(ClientWebSocket ws, CliIO io, CancellationToken ct)
    {
        while (await io.In.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (ws.Closed) return;
            await ws.SendStr(line).DefaultIfEmpty().ToTask(ct).ConfigureAwait(false);
        }
    }
}
