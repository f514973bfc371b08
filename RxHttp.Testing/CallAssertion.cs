using System.Text.RegularExpressions;

namespace RxHttp.Testing;

/// <summary>
/// Flurl-style assertions on recorded calls: each <c>With…</c> narrows the calls and fails if none is left;
/// <see cref="Times"/> checks the exact count. Failures throw <see cref="HttpCallAssertionException"/> listing every call.
/// </summary>
public sealed class CallAssertion
{
    private readonly IReadOnlyList<FakeCall> _all;
    private readonly List<FakeCall> _matching;
    private readonly List<string> _conditions = new();

    internal CallAssertion(IReadOnlyList<FakeCall> all, string? urlPattern)
    {
        _all = all;
        if (urlPattern is null or "*") _matching = all.ToList();
        else
        {
            UrlPattern.Validate(urlPattern, nameof(urlPattern));
            var regex = UrlPattern.ToRegex(urlPattern);
            _matching = all.Where(c => regex.IsMatch(c.Url)).ToList();
            _conditions.Add(urlPattern);
        }
    }

    /// <summary>The calls that meet every condition so far.</summary>
    public IReadOnlyList<FakeCall> Calls => _matching;

    /// <summary>Keeps the calls with method <paramref name="method"/>.</summary>
    public CallAssertion WithVerb(string method) =>
        Narrow(c => c.Method.Equals(method, StringComparison.OrdinalIgnoreCase), "with verb " + method.ToUpperInvariant());

    /// <summary>Keeps the calls with header <paramref name="name"/> (and, if given, a value matching <paramref name="valuePattern"/>, <c>*</c> wildcards).</summary>
    public CallAssertion WithHeader(string name, string? valuePattern = null)
    {
        var regex = valuePattern is null ? null : UrlPattern.ToRegex(valuePattern);
        return Narrow(c => c.Headers.Any(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase) && (regex is null || regex.IsMatch(h.Value))),
            $"with header {name}{(valuePattern is null ? "" : ": " + valuePattern)}");
    }

    /// <summary>Keeps the calls without header <paramref name="name"/>.</summary>
    public CallAssertion WithoutHeader(string name) =>
        Narrow(c => c.Header(name) is null, "without header " + name);

    /// <summary>Keeps the calls whose query has <paramref name="name"/> (and, if given, that exact decoded value).</summary>
    public CallAssertion WithQueryParam(string name, string? value = null) =>
        Narrow(c => Query(c.Url).Any(p => p.Key == name && (value is null || p.Value == value)),
            $"with query parameter {name}{(value is null ? "" : "=" + value)}");

    /// <summary>
    /// Keeps the calls whose body, as UTF-8, matches <paramref name="pattern"/>: <c>*</c> matches any run of
    /// characters, line breaks included; the rest must match exactly, case included.
    /// </summary>
    public CallAssertion WithRequestBody(string pattern)
    {
        // A body is data, not a URL: its case matters (a JSON property "Q" is not "q"), and a multipart or indented
        // body spans lines, which "*" must cross.
        var regex = UrlPattern.ToRegex(pattern, RegexOptions.Singleline | RegexOptions.CultureInvariant);
        return Narrow(c => regex.IsMatch(c.BodyText), "with body " + pattern);
    }

    /// <summary>Keeps the calls the client abandoned before their response was complete (cancelled, timed out).</summary>
    public CallAssertion Aborted() => Narrow(c => c.Aborted, "aborted by the client");

    /// <summary>Keeps the calls that <paramref name="predicate"/> accepts.</summary>
    public CallAssertion With(Func<FakeCall, bool> predicate, string description = "matching the predicate") => Narrow(predicate, description);

    /// <summary>Asserts that exactly <paramref name="expected"/> calls meet the conditions.</summary>
    public CallAssertion Times(int expected)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expected);
        if (_matching.Count != expected) Fail($"Expected {expected} call{(expected == 1 ? "" : "s")} {Describe()}, but {_matching.Count} matched.");
        return this;
    }

    internal CallAssertion Assert()
    {
        if (_matching.Count == 0) Fail($"Expected a call {Describe()}, but {(_all.Count == 0 ? "none was made" : "none matched")}.");
        return this;
    }

    private CallAssertion Narrow(Func<FakeCall, bool> keep, string condition)
    {
        var before = _matching.Count;
        _matching.RemoveAll(c => !keep(c));
        _conditions.Add(condition);
        // Say which condition left nothing: "none was made" was false when calls had been made.
        if (_matching.Count == 0)
            Fail($"Expected a call {Describe()}, but none matched: {before} call{(before == 1 ? "" : "s")} met the conditions before \"{condition}\".");
        return this;
    }

    private string Describe() => _conditions.Count == 0 ? "to any URL" : "to " + string.Join(" ", _conditions);

    private void Fail(string message)
    {
        var made = _all.Count == 0
            ? "No calls were made."
            : "Calls made:\n" + string.Join("\n", _all.Select((c, i) => $"  {i + 1}. {c}"));
        throw new HttpCallAssertionException(message + "\n" + made);
    }

    private static IEnumerable<KeyValuePair<string, string>> Query(string url)
    {
        var q = url.IndexOf('?');
        if (q < 0) yield break;
        foreach (var part in url[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            var k = eq < 0 ? part : part[..eq];
            var v = eq < 0 ? "" : part[(eq + 1)..];
            yield return new(Uri.UnescapeDataString(k.Replace('+', ' ')), Uri.UnescapeDataString(v.Replace('+', ' ')));
        }
    }
}
