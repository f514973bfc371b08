using System.Security.Cryptography;
using System.Text;

namespace RxHttp.Tests.Support;

/// <summary>
/// A server-side digest check independent of the library's <c>DigestAuth</c>: it recomputes the answer from the
/// header's own fields (RFC 7616, qop=auth), so a client that hashes the wrong thing is refused.
/// </summary>
internal static class DigestCheck
{
    public static string Challenge(string realm, string algorithm, string nonce) =>
        $"Digest realm=\"{realm}\", qop=\"auth\", algorithm={algorithm}, nonce=\"{nonce}\", opaque=\"op\"";

    public static bool Accepts(string header, string method, string user, string realm, string password, string algorithm)
    {
        if (!header.StartsWith("Digest ", StringComparison.Ordinal)) return false;
        var p = header["Digest ".Length..].Split(", ").Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1].Trim('"'));
        Func<string, string> h = algorithm.StartsWith("SHA-256", StringComparison.Ordinal)
            ? s => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)))
            : s => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(s)));
        var ha1 = h($"{user}:{realm}:{password}");
        if (algorithm.EndsWith("-sess", StringComparison.Ordinal)) ha1 = h($"{ha1}:{p["nonce"]}:{p["cnonce"]}");
        var ha2 = h($"{method}:{p["uri"]}");
        var expected = h($"{ha1}:{p["nonce"]}:{p["nc"]}:{p["cnonce"]}:auth:{ha2}");
        return p["username"] == user && p["response"] == expected && p["opaque"] == "op" && p["algorithm"] == algorithm;
    }
}
