using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace RxHttp.Samples.Tui.ViewModels;

/// <summary>One result of the search API.</summary>
public sealed record SearchHit(string Name, int Stars);

/// <summary>What the search panel shows: the query answered (or in flight), its results, a spinner flag, an error.</summary>
public sealed record SearchState(string Query, bool Busy, IReadOnlyList<SearchHit> Results, string? Error)
{
    /// <summary>Nothing typed yet.</summary>
    public static readonly SearchState Empty = new("", false, [], null);
}

/// <summary>
/// Search as you type: keystrokes are debounced (<c>Throttle</c>), each settled query becomes a request, and
/// <c>Switch</c> keeps only the latest, so a superseded request is disposed (which cancels it on the wire). While a
/// request is in flight the previous results stay and <see cref="SearchState.Busy"/> is set; a failure keeps them
/// and sets <see cref="SearchState.Error"/>, and <see cref="Retry"/> sends the same query again. Every state is
/// delivered on <c>scheduler</c>, the UI's.
/// </summary>
public sealed class SearchViewModel : IDisposable
{
    /// <summary>How long typing must pause before a query is sent.</summary>
    public static readonly TimeSpan DefaultDebounce = TimeSpan.FromMilliseconds(250);

    private readonly Subject<string> _typed = new();
    private readonly Subject<Unit> _retries = new();
    private readonly BehaviorSubject<SearchState> _state = new(SearchState.Empty);
    private readonly IDisposable _subscription;

    /// <param name="search">Sends one query; cold (subscribing sends, disposing cancels).</param>
    /// <param name="scheduler">The UI's scheduler: the debounce timer runs on it and every state arrives on it.</param>
    /// <param name="debounce">The typing pause; <see cref="DefaultDebounce"/> when null.</param>
    public SearchViewModel(Func<string, IObservable<IReadOnlyList<SearchHit>>> search, IScheduler scheduler, TimeSpan? debounce = null)
    {
        var settled = _typed.Throttle(debounce ?? DefaultDebounce, scheduler).Select(q => q.Trim()).DistinctUntilChanged();
        var retried = _retries.Select(_ => _state.Value.Query);
        _subscription = settled.Merge(retried)
            .Select(query => query.Length == 0
                ? Observable.Return(SearchState.Empty)
                : Observable.Defer(() => search(query))
                    .Select(hits => new SearchState(query, false, hits, null))
                    .Catch((Exception e) => Observable.Return(_state.Value with { Query = query, Busy = false, Error = Describe(e) }))
                    .ObserveOn(scheduler)
                    .StartWith(_state.Value with { Query = query, Busy = true, Error = null }))
            .Switch()
            .Subscribe(_state);
    }

    /// <summary>Every state, the current one first.</summary>
    public IObservable<SearchState> States => _state.AsObservable();

    /// <summary>The state now.</summary>
    public SearchState Current => _state.Value;

    /// <summary>The text box changed.</summary>
    public void Type(string text) => _typed.OnNext(text);

    /// <summary>Sends the current query again (after an error, say).</summary>
    public void Retry() => _retries.OnNext(Unit.Default);

    /// <summary>Stops searching; a request in flight is cancelled.</summary>
    public void Dispose()
    {
        _subscription.Dispose();
        _typed.Dispose();
        _retries.Dispose();
    }

    private static string Describe(Exception e) => e switch
    {
        ClientResponseError { Status: > 0 } r => $"{r.Status} {r.StatusMessage}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}
