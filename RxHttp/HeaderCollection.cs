using System.Collections;

namespace RxHttp;

/// <summary>
/// HTTP headers: ordered, case-insensitive names, several values per name (aiohttp's CIMultiDict).
/// Response headers are read-only; request headers may be changed until the request is sent.
/// </summary>
public sealed class HeaderCollection : IEnumerable<KeyValuePair<string, string>>
{
    // A list, not a dictionary: headers are few, order matters on the wire, and a linear scan with
    // OrdinalIgnoreCase beats hashing for the 5-20 headers a message carries.
    private readonly List<KeyValuePair<string, string>> _items;

    /// <summary>Creates an empty, writable collection.</summary>
    public HeaderCollection() => _items = new List<KeyValuePair<string, string>>();

    /// <summary>Creates a writable collection holding <paramref name="headers"/>.</summary>
    public HeaderCollection(IEnumerable<KeyValuePair<string, string>> headers)
    {
        _items = new List<KeyValuePair<string, string>>();
        foreach (var h in headers) Add(h.Key, h.Value);
    }

    internal HeaderCollection(int capacity) => _items = new List<KeyValuePair<string, string>>(capacity);

    /// <summary>True once the collection belongs to a response or a sent request.</summary>
    public bool IsReadOnly { get; private set; }

    /// <summary>How many name/value pairs there are (a name with two values counts twice).</summary>
    public int Count => _items.Count;

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
    public string? Get(string name)
    {
        foreach (var kv in _items)
            if (string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)) return kv.Value;
        return null;
    }

    /// <summary>Every value of <paramref name="name"/> in order.</summary>
    public IReadOnlyList<string> GetAll(string name)
    {
        // The framing headers are read on every response and almost always occur once: a one-element array
        // then, a list only for the rare repeated header.
        string? first = null;
        List<string>? list = null;
        foreach (var kv in _items)
        {
            if (!string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)) continue;
            if (first is null) first = kv.Value;
            else (list ??= new List<string> { first }).Add(kv.Value);
        }
        return (IReadOnlyList<string>?)list ?? (first is null ? Array.Empty<string>() : new[] { first });
    }

    /// <summary>Whether any value of <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => Get(name) is not null;

    /// <summary>Appends a value, keeping existing ones.</summary>
    public HeaderCollection Add(string name, string value)
    {
        ThrowIfReadOnly();
        HeaderValidation.Validate(name, value);
        _items.Add(new KeyValuePair<string, string>(name, value));
        return this;
    }

    /// <summary>Replaces every value of <paramref name="name"/> with <paramref name="value"/>.</summary>
    public HeaderCollection Set(string name, string value)
    {
        ThrowIfReadOnly();
        HeaderValidation.Validate(name, value);
        var i = _items.FindIndex(kv => string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase));
        if (i < 0)
        {
            _items.Add(new KeyValuePair<string, string>(name, value));
            return this;
        }
        _items[i] = new KeyValuePair<string, string>(name, value);
        for (var j = _items.Count - 1; j > i; j--)
            if (string.Equals(_items[j].Key, name, StringComparison.OrdinalIgnoreCase)) _items.RemoveAt(j);
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
        return _items.RemoveAll(kv => string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)) > 0;
    }

    /// <summary>A writable copy.</summary>
    public HeaderCollection Clone() => Clone(0);

    // Room for the headers the caller is about to add, so they do not regrow the copy.
    internal HeaderCollection Clone(int extra)
    {
        var c = new HeaderCollection(_items.Count + extra);
        c._items.AddRange(_items);
        return c;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => string.Join("\r\n", _items.Select(kv => kv.Key + ": " + kv.Value));

    internal HeaderCollection MakeReadOnly()
    {
        IsReadOnly = true;
        return this;
    }

    // Used by the parser, which has already validated the bytes.
    internal void AddUnchecked(string name, string value) => _items.Add(new KeyValuePair<string, string>(name, value));

    internal List<KeyValuePair<string, string>> Items => _items;

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
        foreach (var c in value)
            if (c == '\r' || c == '\n' || c == '\0')
                throw new ArgumentException($"Header '{name}' has a CR, LF or NUL in its value (header injection).", nameof(value));
    }

    public static bool IsTokenChar(char c) =>
        c < 128 && (char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~');
}
