using RxHttp.WebSockets;
using NUnit.Framework;

namespace RxHttp.Tests.WebSockets;

public class WsMaskTests
{
    [Test]
    public void Vectorised_mask_matches_a_naive_loop_for_every_length_offset_and_phase()
    {
        var rng = new Random(42);
        byte[] key = [0x37, 0xfa, 0x21, 0x3d];
        var lengths = Enumerable.Range(0, 140).Concat([255, 256, 257, 1000, 4095, 4097, 65537]);
        foreach (int len in lengths)
        foreach (int offset in new[] { 0, 1, 3, 7 })
        foreach (int phase in new[] { 0, 1, 2, 3, 5 })
        {
            var src = new byte[len + offset];
            rng.NextBytes(src);
            var expected = src.AsSpan(offset).ToArray();
            for (int i = 0; i < expected.Length; i++) expected[i] ^= key[(i + phase) % 4];

            var inPlace = (byte[])src.Clone();
            WsMask.Apply(inPlace.AsSpan(offset), key, phase);
            Assert.That(inPlace.AsSpan(offset).ToArray(), Is.EqualTo(expected), $"in place len={len} offset={offset} phase={phase}");
            Assert.That(inPlace.AsSpan(0, offset).ToArray(), Is.EqualTo(src.AsSpan(0, offset).ToArray()), "bytes before the span are untouched");

            var dst = new byte[len + 5];
            WsMask.Apply(src.AsSpan(offset), dst.AsSpan(1), key, phase);
            Assert.That(dst.AsSpan(1, len).ToArray(), Is.EqualTo(expected), $"copy len={len} offset={offset} phase={phase}");
            Assert.That(dst[0] == 0 && dst.Skip(1 + len).All(b => b == 0), "no write outside the destination range");
        }
    }

    [Test]
    public void Masking_in_pieces_with_the_running_phase_equals_masking_at_once()
    {
        var data = new byte[1001];
        new Random(1).NextBytes(data);
        byte[] key = [1, 2, 3, 4];
        var whole = (byte[])data.Clone();
        WsMask.Apply(whole, key);
        var pieces = (byte[])data.Clone();
        int pos = 0;
        foreach (int n in new[] { 3, 1, 64, 5, 100, 828 })
        {
            WsMask.Apply(pieces.AsSpan(pos, n), key, pos);
            pos += n;
        }
        Assert.That(pieces, Is.EqualTo(whole));
    }

    [Test]
    public void Mask_keys_are_fresh_per_frame()
    {
        var source = new WsMaskKeySource();
        var seen = new HashSet<uint>();
        Span<byte> k = stackalloc byte[4];
        for (int i = 0; i < 1000; i++)
        {
            source.Next(k);
            seen.Add(BitConverter.ToUInt32(k));
        }
        Assert.That(seen.Count, Is.GreaterThan(990));
    }
}
