namespace RxHttp;

/// <summary>
/// A small built-in stand-in for the Public Suffix List. The full list is ~10k rules and changes monthly; we ship
/// no data file, so we reject every single-label domain (what aiohttp does: a Domain without a dot) plus the
/// common multi-label registry suffixes below. A suffix not listed here is treated like an ordinary domain.
/// </summary>
internal static class PublicSuffixes
{
    private static readonly HashSet<string> MultiLabel = new(StringComparer.Ordinal)
    {
        // United Kingdom
        "co.uk", "org.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "sch.uk", "ac.uk", "gov.uk", "nhs.uk", "police.uk",
        // Australia
        "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au",
        // New Zealand
        "co.nz", "net.nz", "org.nz", "ac.nz", "govt.nz", "school.nz",
        // Japan
        "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "ad.jp", "ed.jp", "gr.jp", "lg.jp",
        // Others frequently seen
        "co.kr", "or.kr", "ne.kr", "go.kr",
        "co.in", "net.in", "org.in", "gov.in", "ac.in",
        "co.za", "org.za", "gov.za", "ac.za",
        "com.br", "net.br", "org.br", "gov.br",
        "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn",
        "com.tw", "org.tw", "net.tw", "edu.tw",
        "com.hk", "org.hk", "net.hk", "edu.hk",
        "com.sg", "org.sg", "net.sg", "edu.sg",
        "com.mx", "org.mx", "gob.mx",
        "com.ar", "com.tr", "com.ua", "com.pl", "co.il", "org.il", "ac.il", "co.id", "or.id", "ac.id",
        "com.my", "com.ph", "com.vn", "com.sa", "com.eg", "com.ng", "co.th", "in.th", "ac.th",
    };

    /// <summary>True when <paramref name="domain"/> (lower case, no leading dot) is a registry suffix.</summary>
    public static bool IsPublicSuffix(string domain) => !domain.Contains('.') || MultiLabel.Contains(domain);
}
