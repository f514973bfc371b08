using System.Text;
using System.Text.Json;

namespace RxHttp;

/// <summary>
/// One received websocket message: aiohttp's <c>WSMessage(type, data, extra)</c> with typed members instead
/// of a loosely typed <c>data</c>/<c>extra</c> pair. Instances are immutable; create them with the factories.
/// </summary>
public sealed class WsMessage
{
    private WsMessage(WsMsgType type, string? text, ReadOnlyMemory<byte> data, int? closeCode, Exception? exception)
    {
        Type = type;
        Text = text;
        Data = data;
        CloseCode = closeCode;
        Exception = exception;
    }

    /// <summary>The message kind.</summary>
    public WsMsgType Type { get; }
    /// <summary>The text of a <see cref="WsMsgType.Text"/> message, or the reason of a <see cref="WsMsgType.Close"/> message; otherwise null.</summary>
    public string? Text { get; }
    /// <summary>The payload of a <see cref="WsMsgType.Binary"/>, <see cref="WsMsgType.Ping"/> or <see cref="WsMsgType.Pong"/> message; otherwise empty.</summary>
    public ReadOnlyMemory<byte> Data { get; }
    /// <summary>The status code of a <see cref="WsMsgType.Close"/> message; null when the close frame carried none (RFC 6455 reports that as 1005).</summary>
    public int? CloseCode { get; }
    /// <summary>The failure of an <see cref="WsMsgType.Error"/> message; otherwise null.</summary>
    public Exception? Exception { get; }

    /// <summary>The shared <see cref="WsMsgType.Closing"/> message.</summary>
    public static WsMessage ClosingMessage { get; } = new(WsMsgType.Closing, null, default, null, null);
    /// <summary>The shared <see cref="WsMsgType.Closed"/> message.</summary>
    public static WsMessage ClosedMessage { get; } = new(WsMsgType.Closed, null, default, null, null);

    /// <summary>Creates a text message.</summary>
    public static WsMessage CreateText(string text) => new(WsMsgType.Text, text ?? throw new ArgumentNullException(nameof(text)), default, null, null);
    /// <summary>Creates a binary message; <paramref name="data"/> is kept, not copied.</summary>
    public static WsMessage CreateBinary(ReadOnlyMemory<byte> data) => new(WsMsgType.Binary, null, data, null, null);
    /// <summary>Creates a ping message; <paramref name="data"/> is kept, not copied.</summary>
    public static WsMessage CreatePing(ReadOnlyMemory<byte> data) => new(WsMsgType.Ping, null, data, null, null);
    /// <summary>Creates a pong message; <paramref name="data"/> is kept, not copied.</summary>
    public static WsMessage CreatePong(ReadOnlyMemory<byte> data) => new(WsMsgType.Pong, null, data, null, null);
    /// <summary>Creates a close message.</summary>
    /// <param name="code">The status code, or null when the close frame had no payload.</param>
    /// <param name="reason">The UTF-8 decoded reason; empty when absent.</param>
    public static WsMessage CreateClose(int? code, string? reason = null) => new(WsMsgType.Close, reason ?? "", default, code, null);
    /// <summary>Creates an error message.</summary>
    public static WsMessage CreateError(Exception exception) => new(WsMsgType.Error, null, default, null, exception ?? throw new ArgumentNullException(nameof(exception)));

    /// <summary>
    /// Deserializes a text message (or, like aiohttp's <c>json()</c>, a binary message holding UTF-8 JSON)
    /// with System.Text.Json.
    /// </summary>
    /// <exception cref="InvalidOperationException">The message is neither text nor binary.</exception>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(ClientResponse.ReflectionJson)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(ClientResponse.DynamicJson)]
    public T? Json<T>(JsonSerializerOptions? options = null) => Json(JsonDefaults.TypeInfo<T>(options ?? JsonDefaults.Web));

    /// <summary>
    /// Deserializes a text message (or a binary message holding UTF-8 JSON) with source-generated metadata
    /// (<c>MyContext.Default.MyDto</c>): trim- and NativeAOT-safe.
    /// </summary>
    /// <exception cref="InvalidOperationException">The message is neither text nor binary.</exception>
    public T? Json<T>(System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return Type switch
        {
            WsMsgType.Text => JsonSerializer.Deserialize(Text!, typeInfo),
            WsMsgType.Binary => JsonSerializer.Deserialize(Data.Span, typeInfo),
            _ => throw new InvalidOperationException($"A {Type} message has no JSON payload."),
        };
    }

    /// <inheritdoc/>
    public override string ToString() => Type switch
    {
        WsMsgType.Text => $"WsMessage(Text, \"{Shorten(Text!)}\")",
        WsMsgType.Binary or WsMsgType.Ping or WsMsgType.Pong => $"WsMessage({Type}, {Data.Length} bytes)",
        WsMsgType.Close => $"WsMessage(Close, {(CloseCode?.ToString() ?? "no code")}, \"{Shorten(Text!)}\")",
        WsMsgType.Error => $"WsMessage(Error, {Exception!.GetType().Name}: {Exception.Message})",
        _ => $"WsMessage({Type})",
    };

    // Messages end up in logs; a multi-megabyte text would drown them.
    private static string Shorten(string s) => s.Length <= 80 ? s : new StringBuilder(s, 0, 77, 80).Append("...").ToString();
}
