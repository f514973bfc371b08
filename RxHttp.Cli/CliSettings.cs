namespace RxHttp.Cli;

/// <summary>What the command line asked for, after parsing; everything the runners need and nothing of System.CommandLine.</summary>
internal sealed class CliSettings
{
    public string Method { get; set; } = "GET";
    /// <summary>No method was typed: GET, turned into POST once a body turns up (items, --raw, @file or stdin).</summary>
    public bool MethodGuessed { get; set; }
    public bool WebSocket { get; set; }
    public string Url { get; set; } = "";
    public List<string> Items { get; } = new();
    public BodyKind Body { get; set; } = BodyKind.Json;
    public bool BodyKindGiven { get; set; }
    public string? Auth { get; set; }
    public string AuthType { get; set; } = "basic";
    public string? Bearer { get; set; }
    public string? Proxy { get; set; }
    public string? UnixSocket { get; set; }
    public double? Timeout { get; set; }
    public double? ConnectTimeout { get; set; }
    public double? MaxTime { get; set; }
    public bool Follow { get; set; }
    public int MaxRedirects { get; set; } = 30;
    public string Verify { get; set; } = "yes";
    public string? CaCert { get; set; }
    public string? Cert { get; set; }
    public string? CertKey { get; set; }
    public string? Session { get; set; }
    public bool Offline { get; set; }
    public bool Verbose { get; set; }
    public bool Quiet { get; set; }
    public bool HeadersOnly { get; set; }
    public bool BodyOnly { get; set; }
    public string? Print { get; set; }
    public string? Output { get; set; }
    public bool Download { get; set; }
    public bool Continue { get; set; }
    public bool Stream { get; set; }
    public bool CheckStatus { get; set; }
    public string? Pretty { get; set; }
    public bool Debug { get; set; }
    public bool IgnoreStdin { get; set; }
    public string? Raw { get; set; }
}

internal enum BodyKind { Json, Form, Multipart }

/// <summary>A mistake in the command line: one line on stderr, exit code 1.</summary>
internal sealed class UsageException(string message) : Exception(message);
