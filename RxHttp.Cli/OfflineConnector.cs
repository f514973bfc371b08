using System.Text;

namespace RxHttp.Cli;

/// <summary>
/// A connector whose connection is a recorder: the library writes the request into it exactly as it would into a
/// socket (head, framing, body), and reads back a canned empty 204 so the exchange ends without a network. That is
/// how --offline prints the request byte for byte with no special path in the library.
/// </summary>
internal sealed class OfflineConnector() : BaseConnector(new ConnectorOptions { ForceClose = true })
{
    private readonly MemoryStream _sent = new();

    /// <summary>Every byte written so far, across connections (one per redirect-free request).</summary>
    public byte[] Sent
    {
        get { lock (_sent) return _sent.ToArray(); }
    }

    protected override Task<Connection> CreateConnectionAsync(ConnectionKey key, CancellationToken cancellationToken) =>
        Task.FromResult(NewConnection(key, null, new RecordingStream(this)));

    private sealed class RecordingStream(OfflineConnector owner) : Stream
    {
        private static readonly byte[] Answer = Encoding.ASCII.GetBytes("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        private int _answered; // bytes of Answer handed out; a reader may ask for fewer than all of them at once

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            // The library reads only after the whole request is written (no read-ahead without a socket), from one
            // reader at a time.
            var n = Math.Min(buffer.Length, Answer.Length - _answered);
            Answer.AsSpan(_answered, n).CopyTo(buffer);
            _answered += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            new(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (owner._sent) owner._sent.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }
    }
}
