namespace RxHttp.Http1;

/// <summary>Bounds on what a peer can make the parser buffer; the defaults are aiohttp's.</summary>
internal sealed class HttpParserLimits
{
    /// <summary>Longest status line (and chunk-size line), excluding its line terminator.</summary>
    public int MaxLineSize { get; init; } = 8190;

    /// <summary>Longest header or trailer line (name, colon and value), excluding its line terminator.</summary>
    public int MaxFieldSize { get; init; } = 8190;

    /// <summary>Most header lines in one head, and separately most trailer lines after a chunked body.</summary>
    public int MaxHeaders { get; init; } = 128;

    /// <summary>
    /// How large the read buffer may grow while a head is incomplete: room for the empty lines skipped before the
    /// status line and the status line at <see cref="MaxLineSize"/>, every header line at its limit, and never less
    /// than 64 KiB. In long, capped at the largest array: a limit raised towards int.MaxValue (to lift it) used to
    /// overflow into a small buffer, and a head the limits accept then failed with "Read buffer limit reached".
    /// </summary>
    public int MaxHeadBuffer => (int)Math.Clamp(2L * MaxLineSize + 4 + MaxHeaders * (MaxFieldSize + 2L), 64 * 1024, Array.MaxLength);

    public static readonly HttpParserLimits Default = new();
}
