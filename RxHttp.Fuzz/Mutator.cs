using System.Text;

namespace RxHttp.Fuzz;

/// <summary>
/// Deterministic, dependency-free input mutation (a small cousin of libFuzzer's and AFL's havoc stage): from the
/// same seed it produces the same inputs on every machine.
/// </summary>
public sealed class Mutator(int seed, IReadOnlyList<byte[]> tokens, int maxLength)
{
    private readonly Random _random = new(seed);

    private static readonly byte[] Interesting = [0, 1, 0x7F, 0x80, 0xFF, (byte)'\r', (byte)'\n', (byte)' ', (byte)'\t', (byte)':',
        (byte)';', (byte)',', (byte)'=', (byte)'"', (byte)'\\', (byte)'0', (byte)'9', (byte)'a', (byte)'f', (byte)'F', (byte)'%', (byte)'<', (byte)'>'];

    private static readonly string[] Numbers = ["0", "1", "-1", "00", "7fffffff", "80000000", "ffffffffffffffff", "10000000000000000",
        "2147483647", "2147483648", "9223372036854775807", "9223372036854775808", "18446744073709551616", "65535", "65536", "125", "126", "127"];

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        var data = new List<byte>(input);
        var rounds = 1 + _random.Next(_random.Next(2) == 0 ? 2 : 8);
        for (var r = 0; r < rounds; r++) MutateOnce(data, corpus);
        if (data.Count > maxLength) data.RemoveRange(maxLength, data.Count - maxLength);
        return data.ToArray();
    }

    private void MutateOnce(List<byte> d, IReadOnlyList<byte[]> corpus)
    {
        var at = d.Count == 0 ? 0 : _random.Next(d.Count + 1);
        switch (_random.Next(12))
        {
            case 0 when d.Count > 0: // flip a bit
                d[Math.Min(at, d.Count - 1)] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when d.Count > 0: // an interesting byte in place of one
                d[Math.Min(at, d.Count - 1)] = Interesting[_random.Next(Interesting.Length)];
                break;
            case 2: // insert an interesting byte
                d.Insert(at, Interesting[_random.Next(Interesting.Length)]);
                break;
            case 3 when d.Count > 0: // delete a range
                d.RemoveRange(Math.Min(at, d.Count - 1), Math.Min(1 + _random.Next(16), d.Count - Math.Min(at, d.Count - 1)));
                break;
            case 4 when d.Count > 0: // duplicate a range
            {
                var start = _random.Next(d.Count);
                var len = Math.Min(1 + _random.Next(64), d.Count - start);
                d.InsertRange(at, d.GetRange(start, len));
                break;
            }
            case 5 when tokens.Count > 0: // insert a grammar token
                d.InsertRange(at, tokens[_random.Next(tokens.Count)]);
                break;
            case 6 when tokens.Count > 0 && d.Count > 0: // overwrite with a token
            {
                var token = tokens[_random.Next(tokens.Count)];
                var start = Math.Min(at, d.Count - 1);
                var len = Math.Min(token.Length, d.Count - start);
                d.RemoveRange(start, len);
                d.InsertRange(start, token);
                break;
            }
            case 7: // a long run of one byte: long lines, many headers, deep nesting
                d.InsertRange(at, Enumerable.Repeat(Interesting[_random.Next(Interesting.Length)], 1 + _random.Next(_random.Next(2) == 0 ? 64 : 4096)));
                break;
            case 8: // replace a number with an edge value
                ReplaceNumber(d);
                break;
            case 9 when corpus.Count > 0: // splice with another input
            {
                var other = corpus[_random.Next(corpus.Count)];
                if (other.Length == 0) break;
                var from = _random.Next(other.Length);
                d.RemoveRange(at, d.Count - at);
                d.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 10 when d.Count > 0: // truncate
                d.RemoveRange(at == d.Count ? d.Count - 1 : at, d.Count - (at == d.Count ? d.Count - 1 : at));
                break;
            default: // a random byte
                if (d.Count > 0) d[Math.Min(at, d.Count - 1)] = (byte)_random.Next(256);
                else d.Add((byte)_random.Next(256));
                break;
        }
    }

    private void ReplaceNumber(List<byte> d)
    {
        var starts = new List<int>();
        for (var i = 0; i < d.Count; i++)
            if (IsHexDigit(d[i]) && (i == 0 || !IsHexDigit(d[i - 1]))) starts.Add(i);
        var number = Encoding.ASCII.GetBytes(Numbers[_random.Next(Numbers.Length)]);
        if (starts.Count == 0)
        {
            d.InsertRange(_random.Next(d.Count + 1), number);
            return;
        }
        var s = starts[_random.Next(starts.Count)];
        var e = s;
        while (e < d.Count && IsHexDigit(d[e])) e++;
        d.RemoveRange(s, e - s);
        d.InsertRange(s, number);
    }

    private static bool IsHexDigit(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';
}
