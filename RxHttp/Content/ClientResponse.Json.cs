using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RxHttp;

public sealed partial class ClientResponse
{
    internal const string ReflectionJson = JsonDefaults.ReflectionJson;
    internal const string DynamicJson = JsonDefaults.DynamicJson;

    /// <summary>
    /// The body deserialised as JSON with <paramref name="options"/>, else the session's
    /// <see cref="ClientSessionOptions.JsonOptions"/> (web defaults). Like aiohttp, the Content-Type must be
    /// <paramref name="contentType"/> (default application/json, also any <c>+json</c> type) or
    /// <see cref="ContentTypeError"/> is raised; pass null to skip the check. For trimmed and NativeAOT apps use
    /// <see cref="Json{T}(JsonTypeInfo{T}, string?)"/>.
    /// </summary>
    /// <exception cref="ClientPayloadError">The body is not valid JSON for <typeparamref name="T"/>.</exception>
    [RequiresUnreferencedCode(ReflectionJson)]
    [RequiresDynamicCode(DynamicJson)]
    public IObservable<T?> Json<T>(string? contentType = "application/json", JsonSerializerOptions? options = null) =>
        Json(JsonDefaults.TypeInfo<T>(options ?? _extras?.JsonOptions ?? JsonDefaults.Web), contentType);

    /// <summary>
    /// The body deserialised as JSON with source-generated metadata (<c>MyContext.Default.MyDto</c>): trim- and
    /// NativeAOT-safe. The Content-Type check is <see cref="Json{T}(string?, JsonSerializerOptions?)"/>'s. A body in
    /// a declared charset other than UTF-8, or one <see cref="ClientSessionOptions.FallbackCharsetResolver"/> picks for
    /// a body without charset that is not UTF-8, is transcoded to UTF-8 first (aiohttp decodes with
    /// <c>get_encoding()</c>). A leading byte order mark is ignored, as RFC 8259 §8.1 allows, its encoding used.
    /// </summary>
    /// <exception cref="ClientPayloadError">The body is not valid JSON for <typeparamref name="T"/>.</exception>
    public IObservable<T?> Json<T>(JsonTypeInfo<T> typeInfo, string? contentType = "application/json")
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return RxAsync.FromValueTask((Response: this, TypeInfo: typeInfo, ContentType: contentType),
            static (s, ct) => s.Response.JsonAsync(s.TypeInfo, s.ContentType, ct));
    }

    // No closure, and no state machine when the body is already buffered (a small document arrives with its head).
    private ValueTask<T?> JsonAsync<T>(JsonTypeInfo<T> typeInfo, string? contentType, CancellationToken ct)
    {
        if (contentType is not null && !IsJsonType(contentType))
        {
            Release();
            throw ContentTypeMismatch($"Attempt to decode JSON with unexpected mimetype: {ContentType}");
        }
        var read = ReadAllAsync(ct);
        return read.IsCompletedSuccessfully
            ? new ValueTask<T?>(Deserialize(JsonUtf8(read.Result), typeInfo, "Response body"))
            : Awaited(this, read, typeInfo);

        static async ValueTask<T?> Awaited(ClientResponse r, ValueTask<byte[]> read, JsonTypeInfo<T> typeInfo) =>
            Deserialize(r.JsonUtf8(await read.ConfigureAwait(false)), typeInfo, "Response body");
    }

    /// <summary>The session's JSON settings as this response was made with them.</summary>
    internal JsonSerializerOptions JsonOptions => _extras?.JsonOptions ?? JsonDefaults.Web;

    internal static T? Deserialize<T>(ReadOnlySpan<byte> utf8, JsonTypeInfo<T> typeInfo, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, typeInfo);
        }
        catch (JsonException e)
        {
            throw new ClientPayloadError(what + " is not valid JSON: " + e.Message, e);
        }
    }
}
