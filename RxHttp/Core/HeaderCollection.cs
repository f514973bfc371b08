using System.Collections;

namespace RxHttp;

/// <summary>
/// HTTP headers: ordered, case-insensitive names, several values per name (aiohttp's CIMultiDict).
/// Response headers are read-only; request headers may be changed until the request is sent.
/// </summary>
public sealed class HeaderCollection : IEnumerable<KeyValuePair<string, string>>
{
    // An array, not a dictionary: headers are few, order matters on the wire, and a linear scan with
    // OrdinalIgnoreCase beats hashing for the 5-20 headers a message carries. Not a List either: one object
    // less per collection, and three collections are made per request.
    private KeyValuePair<string, string>[] _items;
    private int _count;
    // Set once a sent request's RequestInfo holds on to _items: the next change copies the array first, so what
    // was sent stays as it was without a copy per request.
    private bool _shared;

    /// <summary>Creates an empty, writable collection.</summary>
    public HeaderCollection() => _items = Array.Empty<KeyValuePair<string, string>>();

    /// <summary>Creates a writable collection holding <paramref name="headers"/>.</summary>
    public HeaderCollection(IEnumerable<KeyValuePair<string, string>> headers)
    {
        _items = headers is ICollection<KeyValuePair<string, string>> { Count: var n } && n > 0
            ? new KeyValuePair<string, string>[n]
            : Array.Empty<KeyValuePair<string, string>>();
        foreach (var h in headers) Add(h.Key, h.Value);
    }

    internal HeaderCollection(int capacity) =>
        _items = capacity == 0 ? Array.Empty<KeyValuePair<string, string>>() : new KeyValuePair<string, string>[capacity];

    /// <summary>True once the collection belongs to a response or a sent request.</summary>
    public bool IsReadOnly { get; private set; }

    /// <summary>How many name/value pairs there are (a name with two values counts twice).</summary>
    public int Count => _count;

    /// <summary>The first value of <paramref name="name"/>, or null. Setting replaces every value.</summary>
    public string? this[string name]
    {
        get => Get(name);
        set
        {
            if (value is null) Remove(name);
            else Set(name, value);
        }
    }

    /// <summary>The first value of <paramref name="name"/>, or null.</summary>
    public string? Get(string name) => IndexOf(name, 0) is var i and >= 0 ? _items[i].Value : null;

    /// <summary>Every value of <paramref name="name"/> in order.</summary>
    public IReadOnlyList<string> GetAll(string name)
    {
        // Almost always once, or not at all: a one-element array then, a list only for a repeated header.
        var first = IndexOf(name, 0);
        if (first < 0) return Array.Empty<string>();
        var next = IndexOf(name, first + 1);
        if (next < 0) return new[] { _items[first].Value };
        var all = new List<string> { _items[first].Value };
        for (; next >= 0; next = IndexOf(name, next + 1)) all.Add(_items[next].Value);
        return all;
    }

    /// <summary>Every value of <paramref name="name"/> in order, without copying them (see <see cref="HeaderValues"/>).</summary>
    internal HeaderValues Values(string name)
    {
        var first = IndexOf(name, 0);
        var count = 0;
        for (var i = first; i >= 0; i = IndexOf(name, i + 1)) count++;
        return new HeaderValues(this, name, first, count);
    }

    /// <summary>Whether any value of <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => IndexOf(name, 0) >= 0;

    /// <summary>Appends a value, keeping existing ones.</summary>
    public HeaderCollection Add(string name, string value)
    {
        ThrowIfReadOnly();
        HeaderValidation.Validate(name, value);
        Append(name, value);
        return this;
    }

    /// <summary>Replaces every value of <paramref name="name"/> with <paramref name="value"/>.</summary>
    public HeaderCollection Set(string name, string value)
    {
        ThrowIfReadOnly();
        HeaderValidation.Validate(name, value);
        var i = IndexOf(name, 0);
        if (i < 0)
        {
            Append(name, value);
            return this;
        }
        PrepareWrite(_items.Length);
        _items[i] = new KeyValuePair<string, string>(name, value);
        RemoveFrom(name, i + 1);
        return this;
    }

    /// <summary>Sets <paramref name="name"/> only if it is absent.</summary>
    public HeaderCollection SetDefault(string name, string value)
    {
        if (!Contains(name)) Add(name, value);
        return this;
    }

    /// <summary>Removes every value of <paramref name="name"/>; returns whether any existed.</summary>
    public bool Remove(string name)
    {
        ThrowIfReadOnly();
        var i = IndexOf(name, 0);
        if (i < 0) return false;
        PrepareWrite(_items.Length);
        RemoveFrom(name, i);
        return true;
    }

    /// <summary>A writable copy.</summary>
    public HeaderCollection Clone() => Clone(0);

    // Room for the headers the caller is about to add, so they do not regrow the copy.
    internal HeaderCollection Clone(int extra)
    {
        var c = new HeaderCollection(_count + extra);
        Span.CopyTo(c._items);
        c._count = _count;
        return c;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        // A snapshot: a change during enumeration (which copies the array when shared) does not disturb it.
        var items = _items;
        var count = _count;
        for (var i = 0; i < count; i++) yield return items[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => string.Join("\r\n", this.Select(kv => kv.Key + ": " + kv.Value));

    internal HeaderCollection MakeReadOnly()
    {
        IsReadOnly = true;
        return this;
    }

    // Used by the parser, which has already validated the bytes.
    internal void AddUnchecked(string name, string value) => Append(name, value);

    internal ReadOnlySpan<KeyValuePair<string, string>> Span => new(_items, 0, _count);

    /// <summary>
    /// The pairs as they are now, for a record of what was sent: later changes to this collection copy the
    /// array before writing, so the returned array never changes under its holder.
    /// </summary>
    internal KeyValuePair<string, string>[] Share(out int count)
    {
        // A read-only collection never writes again, so there is nothing to guard.
        if (!IsReadOnly) _shared = true;
        count = _count;
        return _items;
    }

    /// <summary>
    /// The headers a request sends: Host first (RFC 9110 §7.2), then <paramref name="headers"/> without any Host of
    /// theirs, with room for <paramref name="extra"/> more.
    /// </summary>
    internal static HeaderCollection HostFirst(string host, ReadOnlySpan<KeyValuePair<string, string>> headers, int extra)
    {
        var sent = new HeaderCollection(headers.Length + 1 + extra);
        sent.AddUnchecked("Host", host);
        foreach (var kv in headers)
            if (!kv.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)) sent.AddUnchecked(kv.Key, kv.Value);
        return sent;
    }

    /// <summary>A writable collection over <paramref name="items"/> that copies them before its first change.</summary>
    internal static HeaderCollection SharedCopy(KeyValuePair<string, string>[] items, int count) =>
        new(items, count);

    private HeaderCollection(KeyValuePair<string, string>[] items, int count)
    {
        _items = items;
        _count = count;
        _shared = true;
    }

    /// <summary>Where <paramref name="name"/> next occurs from <paramref name="start"/> on, or -1.</summary>
    internal int IndexOf(string name, int start)
    {
        var items = _items;
        for (var i = start; i < _count; i++)
            if (string.Equals(items[i].Key, name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    private void Append(string name, string value)
    {
        if (_shared || _count == _items.Length) PrepareWrite(_count == _items.Length ? Math.Max(4, _count * 2) : _items.Length);
        _items[_count++] = new KeyValuePair<string, string>(name, value);
    }

    // Gives the collection an array of its own (of at least `capacity`) when it shares one or needs to grow.
    private void PrepareWrite(int capacity)
    {
        if (!_shared && capacity <= _items.Length) return;
        var items = new KeyValuePair<string, string>[capacity];
        Span.CopyTo(items);
        _items = items;
        _shared = false;
    }

    // Drops every pair named `name` at or after `start`, keeping the order of the others.
    private void RemoveFrom(string name, int start)
    {
        var items = _items;
        var kept = start;
        for (var j = start; j < _count; j++)
        {
            if (string.Equals(items[j].Key, name, StringComparison.OrdinalIgnoreCase)) continue;
            items[kept++] = items[j];
        }
        // Cleared so the array does not keep removed strings alive.
        Array.Clear(items, kept, _count - kept);
        _count = kept;
    }

    private void ThrowIfReadOnly()
    {
        if (IsReadOnly) throw new InvalidOperationException("These headers are read-only.");
    }
}

/// <summary>Guards against header injection before anything reaches the wire.</summary>
internal static class HeaderValidation
{
    public static void Validate(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Length == 0) throw new ArgumentException("A header name cannot be empty.", nameof(name));
        foreach (var c in name)
            if (!IsTokenChar(c))
                throw new ArgumentException($"Header name '{name}' contains the character U+{(int)c:X4}, which is not allowed in a token.", nameof(name));
        // Whichever comes first is reported.
        var injection = value.AsSpan().IndexOfAny('\r', '\n', '\0');
        // Values go out as UTF-8, which has no form for a lone surrogate: the lenient encoder sent U+FFFD, other
        // text than was given (a value cut inside an emoji). aiohttp's encode("utf-8") raises, as WebSocket text here.
        var lone = StrictEncodings.IndexOfLoneSurrogate(injection < 0 ? value : value.AsSpan(0, injection));
        if (lone >= 0)
            throw new ArgumentException($"Header '{name}' has a lone UTF-16 surrogate at index {lone} in its value, which UTF-8 cannot encode.", nameof(value));
        if (injection >= 0)
            throw new ArgumentException($"Header '{name}' has a CR, LF or NUL in its value (header injection).", nameof(value));
    }

    public static bool IsTokenChar(char c) =>
        c < 128 && (char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~');
}
