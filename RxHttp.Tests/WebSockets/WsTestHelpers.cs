using System.Buffers;
using System.Buffers.Binary;
using NUnit.Framework;
using RxHttp.WebSockets;

namespace RxHttp.Tests.WebSockets;

/// <summary>Plays the server: turns client frames into what a server would see after unmasking, and drives the reader like a receive loop.</summary>
internal static class WsTestHelpers
{
    /// <summary>Unmasks every frame and clears its mask bit, so client output can be fed to the client reader.</summary>
    public static byte[] Unmask(ReadOnlySpan<byte> frames)
    {
        var output = new ArrayBufferWriter<byte>();
        while (!frames.IsEmpty)
        {
            bool masked = (frames[1] & 0x80) != 0;
            int len7 = frames[1] & 0x7F;
            int pos = 2;
            long len = len7;
            if (len7 == 126) { len = BinaryPrimitives.ReadUInt16BigEndian(frames[2..]); pos = 4; }
            else if (len7 == 127) { len = (long)BinaryPrimitives.ReadUInt64BigEndian(frames[2..]); pos = 10; }
            var header = frames[..pos].ToArray();
            header[1] &= 0x7F;
            output.Write(header);
            if (masked)
            {
                var key = frames.Slice(pos, 4);
                pos += 4;
                var payload = frames.Slice(pos, (int)len).ToArray();
                WsMask.Apply(payload, key);
                output.Write(payload);
            }
            else
            {
                output.Write(frames.Slice(pos, (int)len));
            }
            frames = frames[(pos + (int)len)..];
        }
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a message as a client would send it, then unmasks it as the server would.</summary>
    public static byte[] ClientFrames(WsFrameWriter writer, WsMsgType type, ReadOnlySpan<byte> payload, bool? compress = null)
    {
        var output = new ArrayBufferWriter<byte>();
        writer.WriteMessage(output, type, payload, compress);
        return Unmask(output.WrittenSpan);
    }

    /// <summary>An unmasked frame built by hand, for malformed input.</summary>
    public static byte[] Frame(byte b0, ReadOnlySpan<byte> payload, bool mask = false)
    {
        var dest = new byte[WsFrameWriter.MaxHeaderSize + payload.Length];
        int n = WsFrameWriter.WriteFrame(dest, true, false, WsMsgType.Binary, payload, mask ? new byte[] { 1, 2, 3, 4 } : default);
        dest[0] = b0;
        return dest[..n];
    }

    /// <summary>Feeds <paramref name="data"/> the way a receive loop would, <paramref name="chunk"/> bytes per socket read.</summary>
    public static List<WsMessage> Feed(WsFrameReader reader, ReadOnlySpan<byte> data, int chunk = int.MaxValue)
    {
        var loop = new ReceiveLoop(reader);
        do
        {
            int n = Math.Min(chunk, data.Length);
            loop.Received(data[..n]);
            data = data[n..];
        } while (!data.IsEmpty);
        return loop.Messages;
    }

    /// <summary>The receive loop the reader is designed for: a fixed buffer, partial headers carried over.</summary>
    public sealed class ReceiveLoop(WsFrameReader reader)
    {
        private byte[] _buf = new byte[64];
        private int _end;
        public List<WsMessage> Messages { get; } = new();

        public void Received(ReadOnlySpan<byte> bytes)
        {
            if (_buf.Length - _end < bytes.Length) Array.Resize(ref _buf, _end + bytes.Length);
            bytes.CopyTo(_buf.AsSpan(_end));
            _end += bytes.Length;
            int start = 0;
            int used;
            while (reader.TryRead(_buf.AsSpan(start, _end - start), out used, out var msg))
            {
                start += used;
                Messages.Add(msg!);
            }
            start += used;
            Assert.That(_end - start, Is.LessThan(WsFrameWriter.MaxHeaderSize), "only a partial header may stay unconsumed");
            _buf.AsSpan(start, _end - start).CopyTo(_buf);
            _end -= start;
        }
    }

    /// <summary>The close code a malformed input fails with.</summary>
    public static WsCloseCode FailCode(ReadOnlySpan<byte> data, int maxMsgSize = WsFrameReader.DefaultMaxMsgSize, WsInflater? inflater = null)
    {
        using var reader = new WsFrameReader(maxMsgSize, inflater);
        try
        {
            Feed(reader, data);
        }
        catch (WebSocketProtocolException e)
        {
            return e.CloseCode;
        }
        Assert.Fail("expected a WebSocketProtocolException");
        return default;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
