using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Text.RegularExpressions;

namespace RxHttp.Cli;

/// <summary>One HTTP request: build it from the settings, send it through RxHttp, print or save what comes back.</summary>
internal static partial class HttpCommand
{
    private static readonly string[] AutoHeaders = { "User-Agent", "Accept", "Accept-Encoding", "Content-Type" };

    public static async Task<int> RunAsync(CliSettings s, CliIO io)
    {
        var ct = io.Interrupt;
        var url = NormaliseUrl(s.Url, "http");
        var items = RequestItems.Parse(s.Items);
        var implied = new List<KeyValuePair<string, string>>();
        var body = RequestBody.Build(s, items, io, implied);
        // httpie's guess counts every body, not only data items: `echo x | rxhttp URL` and `rxhttp --raw x URL` POST.
        if (s.MethodGuessed && body is not null) s.Method = "POST";
        var download = s.Download || s.Output is not null;
        var plan = download ? Download.Plan(s, url) : null;

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var h in implied)
            if (!items.Headers.Any(u => u.Key.Equals(h.Key, StringComparison.OrdinalIgnoreCase))) headers.Add(h);
        if (s.Bearer is { } token) headers.Add(new("Authorization", "Bearer " + token));
        if (plan is not null) headers.AddRange(plan.Headers);
        headers.AddRange(items.Headers.Where(h => !items.RemovedHeaders.Contains(h.Key, StringComparer.OrdinalIgnoreCase)));
        headers.RemoveAll(h => items.RemovedHeaders.Contains(h.Key, StringComparer.OrdinalIgnoreCase));
        var skip = AutoHeaders.Where(a => items.RemovedHeaders.Contains(a, StringComparer.OrdinalIgnoreCase)).ToArray();

        var offline = s.Offline ? new OfflineConnector() : null;
        var cookies = CookieSession.Open(s, io, url);
        await using var session = SessionFactory.Create(s, offline, cookies.Jar);
        using var trace = s.Debug ? session.Trace.Subscribe(e => io.Error.WriteLine($"rxhttp: trace #{e.RequestId} {e.Kind} {e.Url}")) : null;

        var options = new RequestOptions
        {
            Params = items.Query.Count > 0 ? new QueryParams(items.Query) : null,
            Headers = headers,
            Data = body,
            // httpie's --download implies --follow: a release link or CDN URL answers with a redirect to the file.
            AllowRedirects = s.Follow || download,
            MaxRedirects = s.MaxRedirects,
            Auth = s.Auth is { } a && s.AuthType == "basic" ? Basic(a) : null,
            Middlewares = s.Auth is { } d && s.AuthType == "digest" ? new[] { Digest(d) } : null,
            Proxy = s.Proxy is { } p ? Url.Parse(NormaliseUrl(p, "http")) : null,
            SkipAutoHeaders = skip.Length > 0 ? skip : null,
            AutoDecompress = plan is null,
        };

        var pretty = s.Pretty ?? (io.OutIsTerminal ? "all" : "none");
        var colors = pretty is "all" or "colors" && io.Env("NO_COLOR") is null or "";
        var format = pretty is "all" or "format";
        var printer = new Printer(io.Out, colors, format);
        var print = What(s, io);

        var response = await session.Request(s.Method, url, options).ToTask(ct).ConfigureAwait(false);
        using var _ = response;
        if (offline is not null)
        {
            var sent = offline.Sent;
            var split = sent.AsSpan().IndexOf("\r\n\r\n"u8);
            var headLength = split < 0 ? sent.Length : split + 4;
            // --print picks the parts here too: httpie's --offline -p B is the body alone, -p H the head alone.
            if (colors || format) PrintOffline(printer, sent, headLength, body, print);
            else
            {
                if (print.Contains('H')) printer.Raw(sent.AsSpan(0, headLength));
                if (print.Contains('B')) printer.Raw(sent.AsSpan(headLength));
            }
            printer.Flush();
            return Failure.Ok;
        }
        cookies.Save();

        if (plan is not null) return await Download.RunAsync(plan, response, s, io, ct).ConfigureAwait(false);

        // With --follow each hop is shown from the request typed on, as httpie does (-v implies its --all: the
        // redirects' heads too; their bodies were dropped unread).
        foreach (var hop in response.History)
        {
            await PrintRequest(printer, hop.RequestInfo, print, body, io.OutIsTerminal, ct).ConfigureAwait(false);
            if (s.Verbose && print.Contains('h')) printer.ResponseHead(hop);
        }
        await PrintRequest(printer, response.RequestInfo, print, body, io.OutIsTerminal, ct).ConfigureAwait(false);
        if (print.Contains('h')) printer.ResponseHead(response);
        if (print.Contains('b') && s.Method != "HEAD")
        {
            if (s.Stream || (!colors && !format))
            {
                // Raw bytes as they arrive: piped output streams in constant memory, and --stream flushes each chunk.
                // A terminal gets no binary (httpie): the first chunk holding a NUL ends the body with the note instead.
                var binary = false;
                var decoder = io.OutIsTerminal ? Printer.TerminalDecoder(response.GetEncoding()) : null;
                await response.BorrowedContent.TakeWhile(chunk =>
                {
                    if (io.OutIsTerminal && Printer.IsBinary(chunk.Span)) return !(binary = true);
                    if (decoder is not null) printer.Decoded(decoder, chunk.Span);
                    else printer.Raw(chunk.Span);
                    if (s.Stream) printer.Flush();
                    return true;
                }).ForEachAsync(_ => { }, ct).ConfigureAwait(false);
                if (binary) printer.BinaryNote();
            }
            else
            {
                var bytes = await response.Read().ToTask(ct).ConfigureAwait(false);
                printer.Body(bytes, response.Headers.Get("Content-Type"), io.OutIsTerminal, response.GetEncoding());
            }
        }
        else
        {
            response.Release();
        }
        printer.Flush();

        // As httpie's http_status_to_exit_status: exit 3 means "a redirect not followed"; with --follow, a 3xx that
        // ends the chain (304, or no Location) is the answer itself.
        var code = !s.CheckStatus || (s.Follow && response.Status is >= 300 and < 400) ? Failure.Ok : Failure.ForStatus(response.Status);
        if (code != Failure.Ok) io.Error.WriteLine($"rxhttp: warning: HTTP {response.Status} {response.Reason}");
        return code;
    }

    /// <summary>httpie's --print letters: what a terminal, a pipe, -v, --headers and --body show.</summary>
    private static string What(CliSettings s, CliIO io)
    {
        // httpie's -q: nothing on stdout, whatever else was asked; errors and the --check-status warning still go to stderr.
        if (s.Quiet) return "";
        if (s.Print is { } p) return p;
        if (s.Offline) return "HB";
        if (s.Verbose) return "HBhb";
        if (s.HeadersOnly) return "h";
        if (s.BodyOnly) return "b";
        return io.OutIsTerminal ? "hb" : "b";
    }

    private static string Target(RequestInfo info) => info.Url.PathAndQuery;

    private static void PrintOffline(Printer printer, byte[] sent, int headLength, Payload? body, string print)
    {
        if (print.Contains('H'))
        {
            var lines = System.Text.Encoding.Latin1.GetString(sent, 0, headLength).Split("\r\n");
            printer.Text(lines[0] + "\n", "\u001b[1;32m");
            foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
            {
                var colon = line.IndexOf(':');
                printer.Text(line[..colon], "\u001b[36m");
                printer.Text(line[colon..] + "\n");
            }
            printer.Text("\n");
        }
        if (print.Contains('B') && headLength < sent.Length)
            printer.Body(sent[headLength..], body?.ContentType, terminal: true);
    }

    private static async Task PrintRequest(Printer printer, RequestInfo info, string print, Payload? body, bool terminal, CancellationToken ct)
    {
        if (print.Contains('H')) printer.RequestHead(info, Target(info));
        // A 303, or a 301/302 after a POST, drops the body for the next hop and its framing headers with it.
        var carried = info.Headers.Contains("Content-Length") || info.Headers.Contains("Transfer-Encoding");
        if (print.Contains('B') && body is not null && carried) await PrintRequestBody(printer, body, terminal, ct).ConfigureAwait(false);
    }

    private static async Task PrintRequestBody(Printer printer, Payload body, bool terminal, CancellationToken ct)
    {
        if (!body.IsReplayable || body.Length is > 1 << 20)
        {
            printer.Text($"[request body of {(body.Length is { } n ? n + " bytes" : "unknown length")} not shown]\n\n");
            return;
        }
        var capture = new CapturingWriter();
        await body.WriteToAsync(capture, ct).ConfigureAwait(false);
        printer.Body(capture.Bytes.ToArray(), body.ContentType, terminal);
        printer.Text("\n");
    }

    private sealed class CapturingWriter : PayloadWriter
    {
        public MemoryStream Bytes { get; } = new();
        public override long BytesWritten => Bytes.Length;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            Bytes.Write(data.Span);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>USER:PASSWORD, split at the first colon (a password may hold colons).</summary>
    public static BasicAuth Basic(string auth)
    {
        var colon = auth.IndexOf(':');
        if (colon < 0) throw new UsageException("--auth takes USER:PASSWORD");
        var (user, password) = (auth[..colon], auth[(colon + 1)..]);
        try
        {
            return new BasicAuth(user, password);
        }
        catch (ArgumentException)
        {
            // Beyond Latin-1: UTF-8, as httpie encodes credentials.
            return new BasicAuth(user, password, System.Text.Encoding.UTF8);
        }
    }

    private static Func<ClientRequest, Func<ClientRequest, IObservable<ClientResponse>>, IObservable<ClientResponse>> Digest(string auth)
    {
        var basic = Basic(auth);
        return new DigestAuth(basic.Login, basic.Password).Middleware;
    }

    /// <summary>httpie's URL shorthand: a missing scheme is http (ws for websockets); <c>:8080/x</c> is localhost.</summary>
    public static string NormaliseUrl(string url, string scheme)
    {
        if (url.StartsWith(':')) url = "localhost" + url;
        return SchemeRegex().IsMatch(url) ? url : scheme + "://" + url;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*://")]
    private static partial Regex SchemeRegex();
}
