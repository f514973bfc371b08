using System.Text;

namespace RxHttp.Testing;

/// <summary>One request the fake server received, as it arrived on the wire.</summary>
public sealed class FakeCall
{
    internal FakeCall(string method, string url, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body, DateTimeOffset time)
    {
        Method = method;
        Url = url;
        Headers = headers;
        Body = body;
        Time = time;
    }

    /// <summary>The request method, e.g. <c>GET</c>.</summary>
    public string Method { get; }

    /// <summary>The absolute URL requested (scheme and host from the connection and the Host header).</summary>
    public string Url { get; }

    /// <summary>The request headers, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The request body (de-chunked), empty when there was none; what had arrived of it when the request is <see cref="Aborted"/> mid-body.</summary>
    public byte[] Body { get; }

    /// <summary>The body decoded as UTF-8.</summary>
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>
    /// The time on the request's clock (its <see cref="RequestOptions.Scheduler"/>, else its session's) when the whole
    /// request had arrived, or when the client abandoned one it had not sent in full.
    /// </summary>
    public DateTimeOffset Time { get; }

    /// <summary>
    /// The scripted response it got (null: none matched, see <see cref="Unmatched"/>, or the client abandoned the
    /// request before sending it in full, see <see cref="Aborted"/>).
    /// </summary>
    public FakeResponse? Response { get; internal set; }

    /// <summary>True when no script matched: the request failed with <see cref="UnscriptedRequestException"/>.</summary>
    public bool Unmatched { get; internal set; }

    /// <summary>
    /// True when the client closed the connection before the response was completely sent (a cancelled or timed-out
    /// request), or before the request itself was (an upload abandoned mid-body: then no script saw it and
    /// <see cref="Response"/> is null); not when the script itself reset it (<see cref="FakeFault.Reset"/>, <see cref="FakeResponse.ResetMidBody"/>).
    /// </summary>
    public bool Aborted { get; internal set; }

    /// <summary>True once the whole response was sent.</summary>
    public bool Completed { get; internal set; }

    /// <summary>The first value of header <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Method} {Url}{(Body.Length > 0 ? $" ({Body.Length} B body)" : "")} → {(Response?.ToString() ?? (Unmatched ? "unscripted" : "none: not sent in full"))}{(Aborted ? " (aborted)" : "")}";
}

/// <summary>A request no script matched; it fails the request that made it, naming it and the scripts there are.</summary>
public sealed class UnscriptedRequestException : InvalidOperationException
{
    internal UnscriptedRequestException(string message) : base(message) { }
}

/// <summary>A failed assertion on the calls a <see cref="FakeHttp"/> recorded; the message lists every call made.</summary>
public sealed class HttpCallAssertionException : Exception
{
    internal HttpCallAssertionException(string message) : base(message) { }
}
