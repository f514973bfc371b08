using System.Globalization;

namespace RxHttp;

/// <summary>
/// The values OpenTelemetry's HTTP client conventions put in tags, computed as System.Net.Http computes them
/// (DiagnosticsHelper): the method tag, <c>error.type</c>, the redacted <c>url.full</c>, the protocol version.
/// </summary>
internal static class HttpSemantics
{
    /// <summary>The method as a tag value: one of the known methods, else "_OTHER" (the conventions bound its cardinality).</summary>
    public static string? KnownMethod(string method) => method switch
    {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "PATCH" => "PATCH",
        "CONNECT" => "CONNECT",
        "QUERY" => "QUERY",
        _ => null,
    };

    public static string MethodTag(string method) => KnownMethod(method) ?? "_OTHER";

    /// <summary>
    /// <c>url.full</c> as .NET 9+ writes it: no user info, and the query's value replaced by "*" (an empty query
    /// stays "?"). Set <c>System.Net.Http.DisableUriRedaction</c> (AppContext switch, or the environment variable
    /// <c>DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION</c>) to keep the query, as HttpClient honours it.
    /// </summary>
    public static string RedactedUrl(Url url)
    {
        if (url.Query.Length == 0) return string.Concat(url.Scheme, "://", url.HostHeader, url.Path);
        return DisableRedaction ? $"{url.Scheme}://{url.HostHeader}{url.Path}?{url.Query}" : $"{url.Scheme}://{url.HostHeader}{url.Path}?*";
    }

    // Ports and status codes as tag values, boxed once each (a tag value is an object; HttpClient caches its status
    // codes too): small values in a table, and the last larger one (a session mostly talks to one port).
    private static readonly object?[] SmallInts = new object?[1024];
    private static object? _lastLarge;

    public static object Boxed(int value)
    {
        if ((uint)value < (uint)SmallInts.Length) return SmallInts[value] ??= value;
        var cached = Volatile.Read(ref _lastLarge);
        if (cached is int last && last == value) return cached;
        object boxed = value;
        Volatile.Write(ref _lastLarge, boxed);
        return boxed;
    }

    private static readonly bool DisableRedaction = ReadDisableRedaction();

    private static bool ReadDisableRedaction()
    {
        if (AppContext.TryGetSwitch("System.Net.Http.DisableUriRedaction", out var value)) return value;
        var env = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION");
        if (bool.TryParse(env, out value)) return value;
        return uint.TryParse(env, out var n) && n != 0;
    }

    /// <summary>"1.1", "1.0", "2" … as <c>network.protocol.version</c>.</summary>
    public static string ProtocolVersion(Version version) => (version.Major, version.Minor) switch
    {
        (1, 1) => "1.1",
        (1, 0) => "1.0",
        (2, 0) => "2",
        (3, 0) => "3",
        _ => version.ToString(),
    };

    private static readonly string[] StatusStrings = CreateStatusStrings();

    private static string[] CreateStatusStrings()
    {
        var s = new string[200];
        for (var i = 0; i < s.Length; i++) s[i] = (400 + i).ToString(CultureInfo.InvariantCulture);
        return s;
    }

    /// <summary>
    /// <c>error.type</c> of a hop: the status code for 4xx and 5xx answers, else the failure's category in the
    /// words HttpClient uses for its HttpRequestError values, else the exception's type name. Null: no error.
    /// </summary>
    public static string? ErrorType(int? status, Exception? error)
    {
        if (status is >= 400 and <= 599) return StatusStrings[status.Value - 400];
        return error switch
        {
            null => null,
            ClientConnectorDnsError => "name_resolution_error",
            ClientSslError or ServerFingerprintMismatch => "secure_connection_error",
            ClientProxyConnectionError or ClientHttpProxyError => "proxy_tunnel_error",
            ClientConnectorError => "connection_error",
            ServerDisconnectedError => "response_ended",
            ClientResponseError { InnerException: Http1.HttpParseException } => "invalid_response",
            _ => error.GetType().FullName,
        };
    }
}
