using System.Text.Json.Serialization;

namespace RxHttp;

// The file CookieJar.Save writes and Load reads. Its JSON metadata is source-generated, so saving and loading
// cookies works in trimmed and NativeAOT apps; the format (camelCase, indented) is the one reflection wrote.

internal sealed class CookieFile
{
    public const int CurrentVersion = 1;
    public int Version { get; set; }
    public List<CookieRecord>? Cookies { get; set; }
}

internal sealed class CookieRecord
{
    public string? Name { get; set; }
    public string? Value { get; set; }
    public string? Domain { get; set; }
    public string? Path { get; set; }
    public DateTimeOffset? Expires { get; set; }
    public long? MaxAge { get; set; }
    public bool Secure { get; set; }
    public bool HttpOnly { get; set; }
    public string? SameSite { get; set; }
    public bool HostOnly { get; set; }
    public DateTimeOffset CreationTime { get; set; }

    public static CookieRecord From(Cookie c) => new()
    {
        Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, Expires = c.Expires, MaxAge = c.MaxAge,
        Secure = c.Secure, HttpOnly = c.HttpOnly, SameSite = c.SameSite, HostOnly = c.HostOnly, CreationTime = c.CreationTime,
    };

    public Cookie? ToCookie() => Name is null || Value is null || Domain is null || Path is null ? null : new Cookie(Name, Value)
    {
        Domain = Domain, Path = Path, Expires = Expires, MaxAge = MaxAge, Secure = Secure,
        HttpOnly = HttpOnly, SameSite = SameSite, HostOnly = HostOnly, CreationTime = CreationTime,
    };
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CookieFile))]
internal sealed partial class CookieFileJsonContext : JsonSerializerContext;
