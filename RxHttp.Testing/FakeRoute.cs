using System.Text.RegularExpressions;

namespace RxHttp.Testing;

/// <summary>
/// A script: which requests it answers (method, URL pattern, predicate) and the responses it gives, in order; the last
/// one answers every later matching request. Made by <see cref="FakeHttp.When(string, string)"/> and its overloads.
/// </summary>
public sealed class FakeRoute
{
    private readonly List<FakeResponse> _responses = new();
    private readonly Regex? _url;
    private readonly Regex? _origin;
    private int _next;

    internal FakeRoute(string? method, string? pattern, Func<FakeCall, bool>? predicate)
    {
        Method = method;
        Pattern = pattern;
        Predicate = predicate;
        if (pattern is not null)
        {
            _url = UrlPattern.ToRegex(pattern);
            _origin = UrlPattern.OriginRegex(pattern);
        }
    }

    /// <summary>The method matched (null: any).</summary>
    public string? Method { get; }

    /// <summary>The URL pattern matched, <c>*</c> matching any run of characters (null: any).</summary>
    public string? Pattern { get; }

    internal Func<FakeCall, bool>? Predicate { get; }

    /// <summary>How many requests this script answered.</summary>
    public int CallCount { get; private set; }

    internal bool AnswersForever => _responses.Count > 0;

    /// <summary>Adds <paramref name="response"/> to the responses given in turn.</summary>
    public FakeRoute Respond(FakeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsConnectFault && Predicate is not null)
            throw new ArgumentException($"{response.Fault} happens while connecting, before any request exists: script it with a URL pattern, not a predicate.", nameof(response));
        _responses.Add(response);
        return this;
    }

    /// <summary>Adds a response with <paramref name="status"/> and an optional text body.</summary>
    public FakeRoute Respond(int status, string? text = null) =>
        Respond(text is null ? FakeResponse.Status(status) : FakeResponse.Status(status).Text(text));

    /// <summary>Adds a response (200 unless <paramref name="status"/> says otherwise) whose body is <paramref name="value"/> as JSON.</summary>
    public FakeRoute RespondJson(object? value, int status = 200) => Respond(FakeResponse.Status(status).Json(value));

    /// <summary>Adds a redirect to <paramref name="location"/>.</summary>
    public FakeRoute RedirectTo(string location, int status = 302) => Respond(FakeResponse.Redirect(location, status));

    /// <summary>Adds a fault (connection refused, DNS or TLS failure, a stall, a reset).</summary>
    public FakeRoute Fail(FakeFault fault) => Respond(FakeResponse.Failing(fault));

    internal bool Matches(FakeCall call) =>
        (Method is null || Method.Equals(call.Method, StringComparison.OrdinalIgnoreCase))
        && (_url is null || _url.IsMatch(call.Url))
        && (Predicate is null || Predicate(call));

    /// <summary>Whether a connection to <paramref name="key"/> could carry a request this route answers.</summary>
    internal bool MayTarget(ConnectionKey key) =>
        _origin is not null && UrlPattern.Origins(key).Any(_origin.IsMatch);

    internal FakeResponse? Peek() => _responses.Count == 0 ? null : _responses[Math.Min(_next, _responses.Count - 1)];

    internal FakeResponse Take()
    {
        var r = Peek() ?? throw new InvalidOperationException($"The script for {this} has no response: call Respond on it.");
        if (_next < _responses.Count) _next++;
        CallCount++;
        return r;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Method ?? "any method"} {Pattern ?? "any URL"}{(Predicate is null ? "" : " where <predicate>")}";
}

/// <summary>Flurl-style URL patterns: the whole URL, <c>*</c> matching any run of characters, case-insensitive.</summary>
internal static class UrlPattern
{
    public static void Validate(string pattern, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern, paramName);
        if (pattern.StartsWith('*')) return;
        var scheme = pattern.IndexOf("://", StringComparison.Ordinal);
        var s = scheme < 0 ? "" : pattern[..scheme].ToLowerInvariant();
        if (s is not ("http" or "https" or "ws" or "wss" or "http*" or "ws*"))
            throw new ArgumentException(
                $"The URL pattern \"{pattern}\" can never match: requests are matched by their absolute URL, " +
                "so a pattern starts with http://, https://, ws://, wss:// or *, as in \"https://api.example.com/items/*\".", paramName);
    }

    public static Regex ToRegex(string pattern, RegexOptions options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*") + "$", options);

    // The scheme and authority part of a pattern, matched at connect time against a connection's origin.
    public static Regex? OriginRegex(string pattern)
    {
        if (pattern.StartsWith('*')) return new Regex("^.*$");
        var scheme = pattern.IndexOf("://", StringComparison.Ordinal);
        var end = pattern.IndexOfAny(['/', '?', '#'], scheme + 3);
        var origin = end < 0 ? pattern : pattern[..end];
        var regex = Regex.Escape(origin).Replace("\\*", ".*");
        // ws:// and wss:// requests travel over http and https connections.
        regex = Regex.Replace(regex, "^ws", "http", RegexOptions.IgnoreCase);
        return new Regex("^" + regex + (origin.EndsWith('*') ? "" : "(/.*)?") + "$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    public static IEnumerable<string> Origins(ConnectionKey key)
    {
        var scheme = key.IsSsl ? "https" : "http";
        yield return $"{scheme}://{key.Host}:{key.Port}";
        if (key.Port == (key.IsSsl ? 443 : 80)) yield return $"{scheme}://{key.Host}";
    }
}
