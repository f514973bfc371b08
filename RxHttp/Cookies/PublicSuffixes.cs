using System.Globalization;
using System.Reflection;

namespace RxHttp;

/// <summary>
/// The Public Suffix List (publicsuffix.org, MPL-2.0), embedded as <c>public_suffix_list.dat</c> and parsed on the
/// first cookie that carries a Domain attribute. Both the ICANN and the private section are used, as Chromium and
/// Firefox do for cookies: <c>github.io</c> or <c>blogspot.com</c> hold unrelated sites, so a cookie for the
/// whole suffix would be a supercookie there too. Rebuilt from a newer copy by
/// <c>scripts/update-public-suffixes.sh</c>.
/// </summary>
internal static class PublicSuffixes
{
    /// <summary>The list's date and where the copy came from (written by the update script).</summary>
    internal const string ListVersion = PublicSuffixListVersion.Value;

    private const string ResourceName = "RxHttp.Cookies.public_suffix_list.dat";

    private static readonly Lazy<Rules> Table = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether the list has been parsed yet (it is not until a Domain attribute needs it).</summary>
    internal static bool IsLoaded => Table.IsValueCreated;

    /// <summary>How many rules of each kind the embedded list holds.</summary>
    internal static (int Normal, int Wildcard, int Exception) RuleCounts
        => (Table.Value.Normal.Count, Table.Value.Wildcard.Count, Table.Value.Exception.Count);

    /// <summary>
    /// True when <paramref name="domain"/> (lower case, punycode, no leading dot) is itself a public suffix under
    /// the PSL algorithm: the prevailing rule matches all of its labels. Unlisted single labels count, by the
    /// list's implicit "*" rule.
    /// </summary>
    public static bool IsPublicSuffix(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        // A trailing dot names the same domain (an absolute name); the list is written without it.
        var d = domain.EndsWith('.') ? domain[..^1] : domain;
        if (d.Length == 0) return true;
        var rules = Table.Value;
        // An exception rule ("!www.ck") matching the domain or any parent makes its prevailing suffix shorter
        // than the domain, whatever else matches.
        for (var s = d; s is not null; s = Parent(s))
            if (rules.Exception.Contains(s)) return false;
        if (rules.Normal.Contains(d)) return true;
        var parent = Parent(d);
        if (parent is null) return true;
        return rules.Wildcard.Contains(parent);
    }

    private static string? Parent(string domain)
    {
        int dot = domain.IndexOf('.');
        return dot < 0 ? null : domain[(dot + 1)..];
    }

    internal sealed record Rules(HashSet<string> Normal, HashSet<string> Wildcard, HashSet<string> Exception);

    private static Rules Load()
    {
        using var stream = typeof(PublicSuffixes).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("The embedded Public Suffix List is missing: " + ResourceName);
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        return Parse(reader);
    }

    /// <summary>Reads a list in publicsuffix.org's format: one rule per line, the first whitespace-free token, "//" comments.</summary>
    internal static Rules Parse(TextReader reader)
    {
        var normal = new HashSet<string>(10_000, StringComparer.Ordinal);
        var wildcard = new HashSet<string>(StringComparer.Ordinal);
        var exception = new HashSet<string>(StringComparer.Ordinal);
        var idn = new IdnMapping();
        while (reader.ReadLine() is { } line)
        {
            var text = line.AsSpan().Trim();
            if (text.IsEmpty || text.StartsWith("//")) continue;
            int space = text.IndexOfAny(' ', '\t');
            var rule = (space < 0 ? text : text[..space]).ToString();
            if (rule.StartsWith('!')) exception.Add(Ascii(idn, rule[1..]));
            else if (rule.StartsWith("*.", StringComparison.Ordinal)) wildcard.Add(Ascii(idn, rule[2..]));
            else normal.Add(Ascii(idn, rule));
        }
        return new Rules(normal, wildcard, exception);
    }

    // Cookie domains are compared in their punycode form (§5.1.2), so the list's Unicode rules are converted once.
    private static string Ascii(IdnMapping idn, string rule)
    {
        foreach (var c in rule)
            if (c > 0x7F) return idn.GetAscii(rule).ToLowerInvariant();
        return rule.ToLowerInvariant();
    }
}
