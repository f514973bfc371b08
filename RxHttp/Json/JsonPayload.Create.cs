using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RxHttp;

public sealed partial class JsonPayload
{
    private JsonPayload(byte[] utf8, string contentType)
    {
        _bytes = utf8;
        ContentType = contentType;
    }

    /// <summary>
    /// A JSON body serialised with source-generated metadata (<c>MyContext.Default.MyDto</c>): trim- and
    /// NativeAOT-safe. Send it as <c>new RequestOptions { Data = JsonPayload.Create(dto, MyContext.Default.MyDto) }</c>.
    /// </summary>
    public static JsonPayload Create<T>(T value, JsonTypeInfo<T> typeInfo, string contentType = "application/json")
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new JsonPayload(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), contentType);
    }

    /// <summary>A JSON body serialised by its runtime type with <paramref name="options"/> (default: web defaults).</summary>
    [RequiresUnreferencedCode(JsonDefaults.ReflectionJson)]
    [RequiresDynamicCode(JsonDefaults.DynamicJson)]
    public static JsonPayload Create(object? value, JsonSerializerOptions? options = null, string contentType = "application/json") =>
        new(JsonDefaults.SerializeToUtf8(value, options ?? JsonDefaults.Web), contentType);
}
