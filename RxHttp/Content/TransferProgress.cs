namespace RxHttp;

/// <summary>
/// How far a body has gone: bytes so far and the total when it is known in advance. Emitted by
/// <see cref="RequestOptions.UploadProgress"/> and <see cref="ClientResponse.DownloadProgress"/>; sample it
/// however the UI likes (<c>Sample</c>, <c>Throttle</c>, <c>ObserveOn</c>).
/// </summary>
/// <param name="Bytes">Bytes transferred so far (upload: before chunked framing, after compression; download: as received, before decompression).</param>
/// <param name="Total">The total in the same unit when known (Content-Length), otherwise null.</param>
public readonly record struct TransferProgress(long Bytes, long? Total)
{
    /// <summary>Bytes / Total between 0 and 1, or null when the total is unknown.</summary>
    public double? Fraction => Total switch { null => null, 0 => 1.0, var t => Math.Min(1.0, (double)Bytes / t.Value) };
}
