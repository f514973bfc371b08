namespace RxHttp.Tests.Support;

/// <summary>A body that counts how often it was asked to write itself: zero proves it never went out.</summary>
internal sealed class SpyPayload(byte[] data) : Payload
{
    public int Writes;
    public override long? Length => data.Length;
    public override ValueTask WriteToAsync(PayloadWriter writer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Writes);
        return writer.WriteAsync(data, cancellationToken);
    }
}
