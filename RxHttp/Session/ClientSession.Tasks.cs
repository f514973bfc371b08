using System.Diagnostics.CodeAnalysis;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization.Metadata;

namespace RxHttp;

// Task and IAsyncEnumerable entry points for callers not written in Rx. Each is the observable of the same name
// awaited with a CancellationToken: the same engine, and cancelling disposes the subscription, which closes the
// connection exactly as disposing does (the token's cancellation surfaces as OperationCanceledException).
public sealed partial class ClientSession
{
    /// <summary>Sends a request and returns the response once its head has arrived; you own the response (read it, or dispose it).</summary>
    public Task<ClientResponse> SendAsync(string method, Url url, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Request(method, url, options).ToTask(cancellationToken);

    /// <summary>
    /// GET, with the body read as text (its charset, else UTF-8). A 4xx or 5xx answer's body is read like any other
    /// unless <see cref="ClientSessionOptions.RaiseForStatus"/> or <see cref="RequestOptions.RaiseForStatus"/> is set,
    /// as with the observables (HttpClient's <c>GetStringAsync</c> throws instead); so are the other <c>Get…Async</c> calls.
    /// </summary>
    public Task<string> GetStringAsync(Url url, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Get(url, options).SelectMany(r => r.Text()).ToTask(cancellationToken);

    /// <summary>GET, with the body read as bytes.</summary>
    public Task<byte[]> GetBytesAsync(Url url, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Get(url, options).SelectMany(r => r.Read()).ToTask(cancellationToken);

    /// <summary>GET, with the body deserialised with source-generated metadata (trim- and NativeAOT-safe).</summary>
    public Task<T?> GetJsonAsync<T>(Url url, JsonTypeInfo<T> typeInfo, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return Get(url, options).SelectMany(r => r.Json(typeInfo)).ToTask(cancellationToken);
    }

    /// <summary>GET, with the body deserialised with the session's <see cref="ClientSessionOptions.JsonOptions"/>.</summary>
    [RequiresUnreferencedCode(ClientResponse.ReflectionJson)]
    [RequiresDynamicCode(ClientResponse.DynamicJson)]
    public Task<T?> GetJsonAsync<T>(Url url, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Get(url, options).SelectMany(r => r.Json<T>()).ToTask(cancellationToken);

    /// <summary>
    /// GET, with the body as chunks as they arrive, read only as fast as you consume them. Leaving the loop early or
    /// cancelling closes the connection; reading to the end returns it to the pool.
    /// </summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> GetChunksAsync(Url url, RequestOptions? options = null, int chunkSize = 64 * 1024,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync("GET", url, options, cancellationToken).ConfigureAwait(false);
        await foreach (var chunk in response.IterChunked(chunkSize, cancellationToken).ConfigureAwait(false)) yield return chunk;
    }

    /// <summary>GET, with the body as lines of text as they arrive (see <see cref="ClientResponse.IterLines"/>); leaving early closes the connection.</summary>
    public async IAsyncEnumerable<string> GetLinesAsync(Url url, RequestOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync("GET", url, options, cancellationToken).ConfigureAwait(false);
        await foreach (var line in response.IterLines(cancellationToken: cancellationToken).ConfigureAwait(false)) yield return line;
    }
}
