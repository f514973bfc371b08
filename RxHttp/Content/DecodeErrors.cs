namespace RxHttp;

/// <summary>
/// Turns what the Content-Encoding decoders throw on bad data into the <see cref="ClientPayloadError"/> users are
/// promised. System.IO.Compression throws three kinds: <see cref="InvalidDataException"/> (gzip, deflate),
/// <c>ZLibException</c>, an <see cref="IOException"/> (zlib's own error codes, on some corrupt deflate streams), and
/// <see cref="InvalidOperationException"/> (Brotli's "Decoder ran into invalid data"); found by the fuzz targets.
/// </summary>
internal static class DecodeErrors
{
    /// <summary>
    /// Whether <paramref name="e"/>, thrown by a decoder whose raw body read did not fail itself, means the data was
    /// not valid in the coding (a disposed stream and the library's own errors are not).
    /// </summary>
    public static bool IsDecoderFailure(Exception e) =>
        e is InvalidDataException or IOException or InvalidOperationException && e is not ObjectDisposedException;

    public static ClientPayloadError Translate(string? coding, Exception e) => new($"Cannot decode the '{coding}' body: {e.Message}", e);
}
