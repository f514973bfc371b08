using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace RxHttp;

/// <summary>
/// The two bridges between observables and async sequences. Not System.Interactive.Async's <c>AsyncEnumerableEx.ToObservable</c>:
/// that one enumerates in an <c>async void</c> method, so an exception from an observer or from <c>DisposeAsync</c> would
/// crash the process instead of reaching the subscriber.
/// </summary>
public static class AsyncEnumerableBridges
{
    /// <summary>
    /// Pulls <paramref name="source"/> as an observable: one subscription runs the enumeration; disposing stops it.
    /// </summary>
    public static IObservable<T> ToObservable<T>(this IAsyncEnumerable<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return StreamingObservable.From(_ => source);
    }

    /// <summary>
    /// Enumerates <paramref name="source"/>. Observables cannot be slowed down, so values that arrive faster than
    /// they are consumed are queued; with <paramref name="capacity"/> set, the oldest queued values are dropped
    /// beyond it. Breaking out of the loop disposes the subscription.
    /// </summary>
    public static async IAsyncEnumerable<T> ToAsyncEnumerable<T>(this IObservable<T> source, int? capacity = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var channel = capacity is { } c
            ? Channel.CreateBounded<T>(new BoundedChannelOptions(c) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true })
            : Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
        using var subscription = source.Subscribe(
            v => channel.Writer.TryWrite(v),
            e => channel.Writer.TryComplete(e),
            () => channel.Writer.TryComplete());
        while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (channel.Reader.TryRead(out var item)) yield return item;
        }
    }
}
