using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RxHttp;

public sealed partial class ClientWebSocket
{
    /// <summary>The session's JSON settings, for <see cref="ReceiveJson{T}(JsonSerializerOptions?)"/>.</summary>
    internal JsonSerializerOptions JsonOptions { get; init; } = JsonDefaults.Web;

    /// <summary>
    /// The next message's text (aiohttp's <c>receive_str()</c>): takes one message as <see cref="Receive"/> does and
    /// fails with <see cref="WsMessageTypeError"/> when it is not TEXT (a BINARY message, or CLOSE, ERROR, CLOSED, whose
    /// exception is the error's inner one).
    /// </summary>
    public IObservable<string> ReceiveStr() => RxAsync.FromAsync(ReceiveStrAsync);

    /// <summary>Task form of <see cref="ReceiveStr"/>.</summary>
    public async Task<string> ReceiveStrAsync(CancellationToken cancellationToken = default) =>
        Expect(await ReceiveAsync(cancellationToken).ConfigureAwait(false), WsMsgType.Text).Text!;

    /// <summary>The next message's bytes (aiohttp's <c>receive_bytes()</c>); not BINARY: <see cref="WsMessageTypeError"/>.</summary>
    public IObservable<ReadOnlyMemory<byte>> ReceiveBytes() => RxAsync.FromAsync(ReceiveBytesAsync);

    /// <summary>Task form of <see cref="ReceiveBytes"/>.</summary>
    public async Task<ReadOnlyMemory<byte>> ReceiveBytesAsync(CancellationToken cancellationToken = default) =>
        Expect(await ReceiveAsync(cancellationToken).ConfigureAwait(false), WsMsgType.Binary).Data;

    /// <summary>
    /// The next message, a TEXT one, deserialised (aiohttp's <c>receive_json()</c>) with <paramref name="options"/>, else
    /// the session's <see cref="ClientSessionOptions.JsonOptions"/>. Not TEXT: <see cref="WsMessageTypeError"/>; not
    /// valid JSON for <typeparamref name="T"/>: <see cref="ClientPayloadError"/>. For trimmed and NativeAOT apps use
    /// <see cref="ReceiveJson{T}(JsonTypeInfo{T})"/>.
    /// </summary>
    [RequiresUnreferencedCode(ClientResponse.ReflectionJson)]
    [RequiresDynamicCode(ClientResponse.DynamicJson)]
    public IObservable<T?> ReceiveJson<T>(JsonSerializerOptions? options = null) =>
        ReceiveJson(JsonDefaults.TypeInfo<T>(options ?? JsonOptions));

    /// <summary>As <see cref="ReceiveJson{T}(JsonSerializerOptions?)"/> with source-generated metadata: trim- and NativeAOT-safe.</summary>
    public IObservable<T?> ReceiveJson<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return RxAsync.FromAsync(ct => ReceiveJsonAsync(typeInfo, ct));
    }

    /// <summary>Task form of <see cref="ReceiveJson{T}(JsonTypeInfo{T})"/>.</summary>
    public async Task<T?> ReceiveJsonAsync<T>(JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        var text = await ReceiveStrAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(text, typeInfo);
        }
        catch (JsonException e)
        {
            throw new ClientPayloadError("Websocket message is not valid JSON: " + e.Message, e);
        }
    }

    private static WsMessage Expect(WsMessage message, WsMsgType expected) =>
        message.Type == expected ? message : throw new WsMessageTypeError(message, expected);
}

/// <summary>
/// A typed receive (<see cref="ClientWebSocket.ReceiveStr"/>, <see cref="ClientWebSocket.ReceiveBytes"/>,
/// <c>ReceiveJson</c>) got another kind of message: aiohttp's <c>WSMessageTypeError</c>. The message is consumed and
/// kept in <see cref="Received"/>; an ERROR message's exception is the inner exception.
/// </summary>
public class WsMessageTypeError : ClientError
{
    /// <summary>Creates the error.</summary>
    public WsMessageTypeError(WsMessage received, WsMsgType expected)
        : base($"Received message {received} is not {expected}.", received?.Exception)
    {
        ArgumentNullException.ThrowIfNull(received);
        Received = received;
        Expected = expected;
    }

    /// <summary>The message that came instead.</summary>
    public WsMessage Received { get; }

    /// <summary>The kind that was expected.</summary>
    public WsMsgType Expected { get; }
}
