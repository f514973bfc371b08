using System.Collections;

namespace RxHttp;

/// <summary>
/// The values of one header name in a <see cref="HeaderCollection"/>, found in one scan and held without a copy:
/// the framing headers are read on every response and nearly always occur once, and <see cref="HeaderCollection.GetAll"/>'s
/// array of that one value was two allocations of every response. A struct, passed as a generic argument, so
/// nothing is boxed; a value past the first is found again by its position when asked for.
/// </summary>
internal readonly struct HeaderValues : IReadOnlyList<string>
{
    private readonly HeaderCollection? _owner;
    private readonly string _name;
    private readonly int _firstIndex;

    internal HeaderValues(HeaderCollection owner, string name, int firstIndex, int count)
    {
        _owner = owner;
        _name = name;
        _firstIndex = firstIndex;
        Count = count;
    }

    /// <summary>How many header lines carry the name.</summary>
    public int Count { get; }

    /// <summary>The value of the <paramref name="index"/>th line carrying the name, in order.</summary>
    public string this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            var at = _firstIndex;
            while (index-- > 0 && at >= 0) at = _owner!.IndexOf(_name, at + 1);
            if (at < 0) throw new InvalidOperationException("The headers changed while their values were read.");
            return _owner!.Span[at].Value;
        }
    }

    public IEnumerator<string> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
