namespace RxHttp.Tests.Support;

/// <summary>
/// Sets the size connections start their read buffer at until disposed. A test whose premise is a body that arrives
/// in the head's own read uses the Release size, which a Debug build's 16-byte first read never gives.
/// </summary>
internal sealed class ReadBufferSize : IDisposable
{
    private readonly int _saved = Connection.InitialBufferSize;

    private ReadBufferSize(int size) => Connection.InitialBufferSize = size;

    public static ReadBufferSize Release() => new(16 * 1024);

    public void Dispose() => Connection.InitialBufferSize = _saved;
}
