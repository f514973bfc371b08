using System.Text.Json.Serialization;

namespace RxHttp;

/// <summary>
/// The saved-jar format, source-generated so that <see cref="CookieJar.Save"/> and <see cref="CookieJar.Load"/> work
/// under trimming and Native AOT (the rxhttp command line's --session), where reflection-based JSON is off.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CookieJar.CookieFile))]
internal sealed partial class CookieJarJsonContext : JsonSerializerContext;
