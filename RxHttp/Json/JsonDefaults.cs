using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RxHttp;

/// <summary>
/// The JSON settings a session uses in both directions. Everything here goes through
/// <see cref="JsonSerializerOptions.GetTypeInfo"/>, which is trim- and AOT-safe: options that carry a
/// source-generated resolver never reflect, and the default reflects only where the app allows reflection.
/// </summary>
internal static class JsonDefaults
{
    /// <summary>The reason every reflection-based JSON entry point gives the trimmer.</summary>
    internal const string ReflectionJson = "Reflection-based System.Text.Json: the type may be trimmed. Pass a JsonTypeInfo<T> from a JsonSerializerContext, or options whose TypeInfoResolver is one.";
    /// <summary>The reason every reflection-based JSON entry point gives the NativeAOT compiler.</summary>
    internal const string DynamicJson = "Reflection-based System.Text.Json may need code generated at run time. Pass a JsonTypeInfo<T> from a JsonSerializerContext, or options whose TypeInfoResolver is one.";

    /// <summary>
    /// The session default: <see cref="JsonSerializerOptions.Web"/> (camelCase, case-insensitive reading, numbers
    /// from strings) where reflection-based serialisation is enabled; in a trimmed or NativeAOT app, where the
    /// runtime's feature switch turns it off, web settings whose resolver says what to do instead.
    /// </summary>
    internal static readonly JsonSerializerOptions Web = JsonSerializer.IsReflectionEnabledByDefault
        ? ReflectionWeb()
        : new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new NoReflection() };

    // IsReflectionEnabledByDefault is the feature switch (System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault)
    // the trimmer and ILCompiler substitute with false, so this branch and the reflection resolver are cut away.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reached only when the app enables reflection-based JSON.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reached only when the app enables reflection-based JSON.")]
    private static JsonSerializerOptions ReflectionWeb() => JsonSerializerOptions.Web;

    private sealed class NoReflection : IJsonTypeInfoResolver
    {
        public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options) => Throw(type);

        public static JsonTypeInfo Throw(Type type) => throw new InvalidOperationException(
            $"Reflection-based JSON is disabled in this app (trimmed or NativeAOT), so {type} cannot be (de)serialised with " +
            "options that have no TypeInfoResolver: set ClientSessionOptions.JsonOptions to options whose TypeInfoResolver is a " +
            "source-generated JsonSerializerContext, or pass a JsonTypeInfo<T> (MyContext.Default.MyType).");
    }

    /// <summary>Serialises <paramref name="value"/> by its runtime type with <paramref name="options"/>.</summary>
    internal static byte[] SerializeToUtf8(object? value, JsonSerializerOptions options) =>
        value is null ? "null"u8.ToArray() : JsonSerializer.SerializeToUtf8Bytes(value, Ready(options).GetTypeInfo(value.GetType()));

    /// <summary>The type info for <typeparamref name="T"/> from <paramref name="options"/> (see the class summary).</summary>
    internal static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions options) => (JsonTypeInfo<T>)Ready(options).GetTypeInfo(typeof(T));

    // Options made with `new JsonSerializerOptions()` have no resolver until JsonSerializer's reflection overloads
    // lock them with the default one; GetTypeInfo does not, so do what those overloads do.
    private static JsonSerializerOptions Ready(JsonSerializerOptions options)
    {
        if (options.TypeInfoResolver is null && !options.IsReadOnly)
        {
            if (!JsonSerializer.IsReflectionEnabledByDefault) NoReflection.Throw(typeof(object));
            LockWithReflection(options);
        }
        return options;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reached only when the app enables reflection-based JSON.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reached only when the app enables reflection-based JSON.")]
    private static void LockWithReflection(JsonSerializerOptions options) => options.MakeReadOnly(populateMissingResolver: true);
}
