using System.CommandLine;
using System.CommandLine.Help;

namespace RxHttp.Cli;

/// <summary>
/// The grammar, on System.CommandLine: one sub-command per method plus <c>ws</c>, all sharing the options below.
/// Parsing only: the result is a <see cref="CliSettings"/>, and running is <see cref="CliApp"/>'s job.
/// </summary>
internal sealed class CommandLine
{
    public static readonly string[] Methods = { "get", "post", "put", "patch", "delete", "head", "options" };

    private readonly Option<bool> Json = Flag("--json", "-j", "Send the data items as a JSON object (the default).");
    private readonly Option<bool> Form = Flag("--form", "-f", "Send the data items URL-encoded (multipart when a file is attached).");
    private readonly Option<bool> Multipart = Flag("--multipart", null, "Send the data items as multipart/form-data.");
    private readonly Option<string> Auth = Text("--auth", "-a", "USER:PASS", "Credentials (Basic unless --auth-type digest).");
    private readonly Option<string> AuthType = Text("--auth-type", "-A", "basic|digest|bearer", "The scheme for --auth (bearer: --auth is the token).");
    private readonly Option<string> Bearer = Text("--bearer", null, "TOKEN", "Send Authorization: Bearer TOKEN.");
    private readonly Option<string> Proxy = Text("--proxy", null, "URL", "An http:// proxy (https goes through a CONNECT tunnel), or socks5://, socks5h://, socks4://, socks4a:// (h, a: the proxy resolves the host).");
    private readonly Option<string> UnixSocket = Text("--unix-socket", null, "PATH", "Connect to this Unix socket; the URL's host only fills Host.");
    private readonly Option<double?> Timeout = Number("--timeout", "SECONDS", "Fail when the server is silent this long (connecting or reading).");
    private readonly Option<double?> ConnectTimeout = Number("--connect-timeout", "SECONDS", "Most time to get a connection.");
    private readonly Option<double?> MaxTime = Number("--max-time", "SECONDS", "Most time for the whole exchange, body included.");
    private readonly Option<bool> Follow = Flag("--follow", "-F", "Follow redirects.");
    private readonly Option<int?> MaxRedirects = new("--max-redirects") { HelpName = "N", Description = "Most redirects to follow with --follow (default 30).", CustomParser = r => Parsed<int>(r, System.Globalization.NumberStyles.Integer, "a whole number") };
    private readonly Option<string> Verify = Text("--verify", null, "yes|no|CA_FILE", "Check the server's TLS certificate (default yes).");
    private readonly Option<string> CaCert = Text("--cacert", null, "FILE", "Trust the CA certificates in this PEM file.");
    private readonly Option<string> Cert = Text("--cert", null, "FILE", "Client certificate (PEM with its key, or PKCS#12).");
    private readonly Option<string> CertKey = Text("--cert-key", null, "FILE", "The client certificate's private key (PEM) when not in --cert.");
    private readonly Option<string> Session = Text("--session", null, "NAME|PATH", "Keep cookies in this session file between runs.");
    private readonly Option<bool> Offline = Flag("--offline", null, "Print the request that would be sent, byte for byte, and send nothing.");
    private readonly Option<bool> Verbose = Flag("--verbose", "-v", "Print the request and response heads (and the request body).");
    private readonly Option<bool> Quiet = Flag("--quiet", "-q", "Print nothing but errors and warnings (a download still saves its file).");
    private readonly Option<bool> Headers = Flag("--headers", "-h", "Print only the response head.");
    private readonly Option<bool> Body = Flag("--body", "-b", "Print only the response body.");
    private readonly Option<string> Print = Text("--print", "-p", "HBhb", "What to print: H request head, B request body, h response head, b response body.");
    private readonly Option<string> Output = Text("--output", "-o", "FILE", "Save the body to FILE (with a progress bar) instead of printing it.");
    private readonly Option<bool> Download = Flag("--download", "-d", "Save the body to a file named after the response or URL.");
    private readonly Option<bool> Continue = Flag("--continue", "-c", "Resume a partial download with a Range request.");
    private readonly Option<bool> Stream = Flag("--stream", "-S", "Print the body as it arrives (server-sent events, chunked).");
    private readonly Option<bool> CheckStatus = Flag("--check-status", null, "Exit 3, 4 or 5 for a 3xx, 4xx or 5xx response.");
    private readonly Option<string> Pretty = Text("--pretty", null, "all|colors|format|none", "Colour and format (default all on a terminal, none when piped).");
    private readonly Option<bool> Debug = Flag("--debug", null, "Print the library's trace events and full exceptions.");
    private readonly Option<bool> IgnoreStdin = Flag("--ignore-stdin", "-I", "Never read a request body from stdin.");
    private readonly Option<string> Raw = Text("--raw", null, "TEXT", "Send TEXT as the request body.");

    private Option[] All => new Option[]
    {
        Json, Form, Multipart, Auth, AuthType, Bearer, Proxy, UnixSocket, Timeout, ConnectTimeout, MaxTime, Follow, MaxRedirects,
        Verify, CaCert, Cert, CertKey, Session, Offline, Verbose, Quiet, Headers, Body, Print, Output, Download, Continue, Stream,
        CheckStatus, Pretty, Debug, IgnoreStdin, Raw,
    };

    private readonly Argument<string> UrlArgument = new("URL") { Description = "The URL; http:// is assumed, :8080/x means localhost." };
    private readonly Argument<string[]> ItemsArgument = new("ITEM") { Arity = ArgumentArity.ZeroOrMore, Description = "Header:value  name==query  field=text  field:=json  field@file  field=@file  @file" };

    /// <summary>The command tree; one per parse, so that parallel in-process runs (the tests) share no symbols.</summary>
    private RootCommand Build()
    {
        var root = new RootCommand("rxhttp: HTTP and WebSocket requests from the shell, on the RxHttp library.");
        // -h is --headers as in httpie, so help is --help only.
        for (var i = root.Options.Count - 1; i >= 0; i--)
            if (root.Options[i] is HelpOption) root.Options.RemoveAt(i);
        root.Options.Add(new HelpOption("--help", "-?"));
        foreach (var o in All)
        {
            o.Recursive = true;
            root.Options.Add(o);
        }
        foreach (var m in Methods)
        {
            var c = new Command(m, $"Send {(m == "options" ? "an" : "a")} {m.ToUpperInvariant()} request.") { UrlArgument, ItemsArgument };
            root.Subcommands.Add(c);
        }
        var ws = new Command("ws", "Open a websocket: lines typed are sent, messages are printed as they arrive.") { UrlArgument, ItemsArgument };
        root.Subcommands.Add(ws);
        return root;
    }

    /// <summary>
    /// httpie's shorthand: a first argument that is not a command is the URL of a GET (a POST when data items follow).
    /// </summary>
    private IReadOnlyList<string> Normalise(IReadOnlyList<string> args)
    {
        _guessed = false;
        _custom = null;
        var first = Positional(args, 0);
        if (first < 0) return args;
        var word = args[first];
        if (word.Equals("ws", StringComparison.OrdinalIgnoreCase) || Array.IndexOf(Methods, word.ToLowerInvariant()) >= 0)
        {
            var copy = args.ToArray();
            copy[first] = word.ToLowerInvariant();
            return copy;
        }
        if (IsCustomMethod(word, Positional(args, first + 1) is var next and >= 0 ? args[next] : null))
        {
            // Any other method (PURGE, PROPFIND, QUERY...) runs as the get command with its own name, uppercased as httpie does.
            var copy = args.ToArray();
            copy[first] = "get";
            _custom = word.ToUpperInvariant();
            return copy;
        }
        var hasData = args.Skip(first + 1).Any(a => !a.StartsWith('-') && RequestItems.IsDataItem(a));
        var list = args.ToList();
        list.Insert(first, hasData ? "post" : "get");
        _guessed = true;
        return list;
    }

    private bool _guessed;
    private string? _custom;

    private int Positional(IReadOnlyList<string> args, int from)
    {
        for (var i = from; i < args.Count; i++)
        {
            if (args[i].StartsWith('-')) { if (TakesValue(args[i])) i++; continue; }
            return i;
        }
        return -1;
    }

    /// <summary>
    /// httpie takes any word of letters before the URL as the method. A word of letters is also a host name
    /// (<c>rxhttp myhost X-A:1</c>), so here it is a method when it is all capitals, or when what follows is plainly
    /// a URL (<c>:8080/x</c>, <c>http://...</c>).
    /// </summary>
    private static bool IsCustomMethod(string word, string? next) =>
        next is not null && word.Length > 0 && word.All(char.IsAsciiLetter)
        && (word.All(char.IsAsciiLetterUpper) || next.StartsWith(':') || next.Contains("://", StringComparison.Ordinal));

    private bool TakesValue(string option)
    {
        var name = option.Split('=', 2)[0];
        if (option.Contains('=')) return false;
        return All.Any(o => o.ValueType != typeof(bool) && (o.Name == name || o.Aliases.Contains(name)));
    }

    /// <summary>Parses <paramref name="args"/>; null means help was printed; a bad command line throws <see cref="UsageException"/>.</summary>
    public static CliSettings? Parse(IReadOnlyList<string> args, TextWriter output) => new CommandLine().ParseCore(args, output);

    private CliSettings? ParseCore(IReadOnlyList<string> args, TextWriter output)
    {
        var root = Build();
        // @file is a request body here, not a System.CommandLine response file.
        var config = new ParserConfiguration { ResponseFileTokenReplacer = null };
        var result = root.Parse(Normalise(args), config);
        if (result.Action is HelpAction || args.Count == 0)
        {
            result = root.Parse(args.Count == 0 ? new[] { "--help" } : args, config);
            result.Invoke(new InvocationConfiguration { Output = output, Error = output });
            return null;
        }
        if (result.Errors.Count > 0)
        {
            // An unknown option explains a missing command or argument better than the other way round.
            var best = result.Errors.FirstOrDefault(e => e.Message.Contains("nrecognized", StringComparison.Ordinal)) ?? result.Errors[0];
            // No word at all is left for the URL (the method is optional, so "command" means nothing to the user).
            if (best.Message.StartsWith("Required command", StringComparison.Ordinal)) throw new UsageException("a URL is required: rxhttp [METHOD] URL [ITEM...]");
            throw new UsageException(best.Message + " (rxhttp --help lists the options)");
        }

        var command = result.CommandResult.Command;
        var s = new CliSettings
        {
            WebSocket = command.Name == "ws",
            Method = _custom ?? command.Name.ToUpperInvariant(),
            MethodGuessed = _guessed,
            Url = result.GetValue(UrlArgument) ?? throw new UsageException("a URL is required"),
            Auth = result.GetValue(Auth),
            AuthType = (result.GetValue(AuthType) ?? "basic").ToLowerInvariant(),
            Bearer = result.GetValue(Bearer),
            Proxy = result.GetValue(Proxy),
            UnixSocket = result.GetValue(UnixSocket),
            Timeout = Seconds(result.GetValue(Timeout), "--timeout"),
            ConnectTimeout = Seconds(result.GetValue(ConnectTimeout), "--connect-timeout"),
            MaxTime = Seconds(result.GetValue(MaxTime), "--max-time"),
            Follow = result.GetValue(Follow),
            MaxRedirects = result.GetValue(MaxRedirects) ?? 30,
            Verify = result.GetValue(Verify) ?? "yes",
            CaCert = result.GetValue(CaCert),
            Cert = result.GetValue(Cert),
            CertKey = result.GetValue(CertKey),
            Session = result.GetValue(Session),
            Offline = result.GetValue(Offline),
            Verbose = result.GetValue(Verbose),
            Quiet = result.GetValue(Quiet),
            HeadersOnly = result.GetValue(Headers),
            BodyOnly = result.GetValue(Body),
            Print = result.GetValue(Print),
            Output = result.GetValue(Output),
            Download = result.GetValue(Download),
            Continue = result.GetValue(Continue),
            Stream = result.GetValue(Stream),
            CheckStatus = result.GetValue(CheckStatus),
            Pretty = result.GetValue(Pretty)?.ToLowerInvariant(),
            Debug = result.GetValue(Debug),
            IgnoreStdin = result.GetValue(IgnoreStdin),
            Raw = result.GetValue(Raw),
        };
        s.Items.AddRange(result.GetValue(ItemsArgument) ?? Array.Empty<string>());
        // An unknown option lands among the items: say what it is rather than "not a request item".
        if (s.Items.FirstOrDefault(i => i.StartsWith("--", StringComparison.Ordinal) || (i.StartsWith('-') && !RequestItems.IsDataItem(i) && !i.Contains(':')))
            is { } unknown) throw new UsageException($"unknown option '{unknown}' (rxhttp --help lists the options)");

        var kinds = new[] { result.GetValue(Json), result.GetValue(Form), result.GetValue(Multipart) }.Count(b => b);
        if (kinds > 1) throw new UsageException("--json, --form and --multipart exclude each other");
        s.BodyKindGiven = kinds == 1;
        s.Body = result.GetValue(Multipart) ? BodyKind.Multipart : result.GetValue(Form) ? BodyKind.Form : BodyKind.Json;
        if (s.AuthType is not ("basic" or "digest" or "bearer")) throw new UsageException($"--auth-type must be basic, digest or bearer, not '{s.AuthType}'");
        if (s.Pretty is not (null or "all" or "colors" or "format" or "none")) throw new UsageException($"--pretty must be all, colors, format or none, not '{s.Pretty}'");
        if (s.Print is { } p && p.Any(c => "HBhb".IndexOf(c) < 0)) throw new UsageException($"--print takes letters of HBhb, not '{p}'");
        if (s.MaxRedirects < 0) throw new UsageException("--max-redirects cannot be negative");
        if (s.Continue && s.Output is null && !s.Download) throw new UsageException("--continue needs --output FILE or --download");
        if (s.Auth is not null && s.Bearer is not null) throw new UsageException("--auth and --bearer exclude each other");
        // httpie 3's -A bearer -a TOKEN is this CLI's --bearer TOKEN.
        if (s.AuthType == "bearer") (s.Bearer, s.Auth) = (s.Auth ?? throw new UsageException("--auth-type bearer needs --auth TOKEN"), null);
        return s;
    }

    private static double? Seconds(double? value, string name)
    {
        if (value is not { } v) return null;
        if (!(v > 0 && double.IsFinite(v))) throw new UsageException($"{name} must be a positive number of seconds");
        // It becomes a TimeSpan, whose ticks are 100 ns: below one tick it would be zero, which turns a timeout off,
        // and past its range the conversion overflows.
        if (TimeSpan.FromTicks(1).TotalSeconds > v || v >= TimeSpan.MaxValue.TotalSeconds)
            throw new UsageException($"{name} must be between 0.0000001 and {Math.Floor(TimeSpan.MaxValue.TotalSeconds):0} seconds");
        return v;
    }

    private static Option<bool> Flag(string name, string? alias, string description)
    {
        var o = alias is null ? new Option<bool>(name) : new Option<bool>(name, alias);
        o.Description = description;
        return o;
    }

    private static Option<string> Text(string name, string? alias, string helpName, string description)
    {
        var o = alias is null ? new Option<string>(name) : new Option<string>(name, alias);
        o.HelpName = helpName;
        o.Description = description;
        return o;
    }

    private static Option<double?> Number(string name, string helpName, string description) =>
        new(name) { HelpName = helpName, Description = description, CustomParser = r => Parsed<double>(r, System.Globalization.NumberStyles.Float, "a number of seconds") };

    /// <summary>
    /// The option's number, or an error in words: System.CommandLine's own names the CLR type
    /// (System.Nullable`1[System.Double]), and its parse allows thousands separators (1,5 was 15 seconds).
    /// </summary>
    private static T? Parsed<T>(System.CommandLine.Parsing.ArgumentResult result, System.Globalization.NumberStyles styles, string what)
        where T : struct, System.Numerics.INumberBase<T>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (T.TryParse(text, styles, System.Globalization.CultureInfo.InvariantCulture, out var value)) return value;
        var option = (result.Parent as System.CommandLine.Parsing.OptionResult)?.Option.Name ?? "the option";
        result.AddError($"{option} takes {what}, not '{text}'");
        return null;
    }
}
