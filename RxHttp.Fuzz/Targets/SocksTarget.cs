using System.Net;

namespace RxHttp.Fuzz.Targets;

/// <summary>
/// The SOCKS handshake against a proxy whose replies are the input (its first byte picks socks5, socks5h, socks4 or
/// socks4a, with or without credentials): success or a <see cref="ClientProxyConnectionError"/>, the same whether
/// the replies arrive whole or split, and never a byte read past the handshake.
/// </summary>
public sealed class SocksTarget : FuzzTarget
{
    private static readonly string[] Schemes = ["socks5", "socks5h", "socks4", "socks4a"];

    public override string Name => "socks";
    public override Type[] Allowed => [typeof(ClientProxyConnectionError)];

    public override IReadOnlyList<byte[]> Seeds =>
    [
        [0, 5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x1F, 0x90],
        [1, 5, 0, 5, 0, 0, 3, 4, .. B("bind"), 0x12, 0x34],
        [4, 5, 2, 1, 0, 5, 0, 0, 4, .. new byte[16], 0, 80],
        [2, 0, 0x5A, 0, 0, 0, 0, 0, 0],
        [3, 0, 0x5B, 0, 0, 0, 0, 0, 0],
        [0, 5, 0xFF],
        [5, 5, 2, 1, 1],
        [0, 5, 0, 5, 4, 0, 1],
    ];

    public override IReadOnlyList<byte[]> Tokens => [[5], [0], [1], [3], [4], [0x5A], [0xFF], [0, 80]];

    protected override string Execute(byte[] input)
    {
        if (input.Length == 0) return "empty";
        var whole = Outcome(() => Handshake(input, [input.Length]));
        foreach (var k in SplitPoints(input.Length).Take(8)) Same(whole, Outcome(() => Handshake(input, [k, input.Length])), k);
        Same(whole, Outcome(() => Handshake(input, [1])), 1);
        return whole;
    }

    private static string Handshake(byte[] input, int[] sizes)
    {
        var variant = input[0];
        var scheme = Schemes[variant % 4];
        var withCredentials = variant / 4 % 2 == 1;
        var proxy = new ProxySettings(Url.Parse($"{scheme}://{(withCredentials ? "alice:pw@" : "")}127.0.0.1:1080"));
        var key = proxy.KeyFor(Url.Parse("http://origin.test:8080/"), null);
        var replies = new Replies(new PiecewiseStream(input[1..], sizes));
        SocksHandshake.OpenAsync(replies, key, proxy.Url, static (_, _) => Task.FromResult<IReadOnlyList<IPAddress>>([IPAddress.Loopback]), CancellationToken.None)
            .GetAwaiter().GetResult();
        // Whatever follows the handshake is the origin's: the handshake must have left it unread.
        return $"ok:{replies.Taken}";
    }

    /// <summary>The proxy's side: its replies to read, and the client's writes counted and dropped.</summary>
    private sealed class Replies(PiecewiseStream replies) : Stream
    {
        public int Taken { get; private set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = replies.Read(buffer.Span);
            Taken += n;
            return new ValueTask<int>(n);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
