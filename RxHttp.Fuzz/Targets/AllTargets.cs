namespace RxHttp.Fuzz.Targets;

/// <summary>Every fuzz target, by name.</summary>
public static class AllTargets
{
    public static IReadOnlyList<FuzzTarget> Create() =>
    [
        new HeadTarget(), new ChunkedTarget(), new FramingTarget(),
        new DecompressionTarget("gzip"), new DecompressionTarget("deflate"), new DecompressionTarget("br"), new DecompressionTarget("zstd"),
        new WebSocketTarget(deflate: false), new WebSocketTarget(deflate: true),
        new SetCookieTarget(), new CookieDateTarget(), new UrlTarget(), new MultipartTarget(), new LinkTarget(), new ContentDispositionTarget(),
        new EventStreamTarget(), new SocksTarget(),
    ];

    public static FuzzTarget Get(string name) =>
        Create().FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"no fuzz target '{name}'; targets: {string.Join(", ", Create().Select(t => t.Name))}");
}
