// A namespace of its own, with its usings inside: RxHttp.Tests.Samples has a SearchViewModel of its own (RxHttp.Testing's sample).
namespace RxHttp.Tests.Samples.Tui;

using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Samples.Tui.ViewModels;

/// <summary>
/// The UI sample's search view model in virtual time (Rx's HistoricalScheduler): debounce, the superseded request
/// disposed, errors shown and retried. The search function is a scripted cold observable that answers after 1 s.
/// </summary>
public class SearchViewModelTests
{
    private sealed class Call(string query)
    {
        public string Query { get; } = query;
        public bool Disposed { get; set; }
    }

    private HistoricalScheduler _time = null!;
    private List<Call> _calls = null!;
    private Queue<Exception> _failures = null!;
    private List<SearchState> _states = null!;
    private SearchViewModel _vm = null!;

    [SetUp]
    public void Create()
    {
        (_time, _calls, _failures, _states) = (new(), new(), new(), new());
        _vm = new SearchViewModel(Search, _time, TimeSpan.FromMilliseconds(250));
        _vm.States.Subscribe(_states.Add);
    }

    [TearDown]
    public void Dispose() => _vm.Dispose();

    // Answers "<query>!" one second after it is subscribed, or fails then with the next scripted failure.
    private IObservable<IReadOnlyList<SearchHit>> Search(string query) => Observable.Create<IReadOnlyList<SearchHit>>(observer =>
    {
        var call = new Call(query);
        _calls.Add(call);
        var failure = _failures.Count > 0 ? _failures.Dequeue() : null;
        var answer = _time.Schedule(TimeSpan.FromSeconds(1), () =>
        {
            if (failure is not null) observer.OnError(failure);
            else
            {
                observer.OnNext([new SearchHit(query + "!", query.Length)]);
                observer.OnCompleted();
            }
        });
        return Disposable.Create(() => { call.Disposed = true; answer.Dispose(); });
    });

    private void Advance(int milliseconds) => _time.AdvanceBy(TimeSpan.FromMilliseconds(milliseconds));

    [Test]
    public void Keystrokes_are_debounced_into_one_request_for_the_settled_query()
    {
        _vm.Type("r");
        Advance(100);
        _vm.Type("rx");
        Advance(100);
        _vm.Type("rxj");
        Advance(249);
        Assert.That(_calls, Is.Empty, "sent before typing paused for 250 ms");
        Advance(1);
        Assert.That(_calls.Select(c => c.Query), Is.EqualTo(new[] { "rxj" }));
        Assert.That(_vm.Current, Is.EqualTo(_vm.Current with { Query = "rxj", Busy = true, Error = null }), "the spinner runs while the request is in flight");
        Advance(1000);
        Assert.That(_vm.Current.Busy, Is.False);
        Assert.That(_vm.Current.Results.Select(h => h.Name), Is.EqualTo(new[] { "rxj!" }));
    }

    [Test]
    public void A_query_typed_while_a_request_is_in_flight_disposes_that_request_and_only_the_latest_results_show()
    {
        _vm.Type("rx");
        Advance(250 + 500);                      // "rx" is half-way through its second
        _vm.Type("rxj");
        Advance(250);
        Assert.That(_calls.Select(c => (c.Query, c.Disposed)), Is.EqualTo(new[] { ("rx", true), ("rxj", false) }), "Switch cancels the superseded request");
        Advance(2000);
        Assert.That(_states.SelectMany(s => s.Results).Select(h => h.Name).Distinct(), Is.EqualTo(new[] { "rxj!" }), "the answer to \"rx\" never reached the view");
    }

    [Test]
    public void The_same_query_typed_again_sends_nothing_and_an_empty_box_clears_without_a_request()
    {
        _vm.Type("rx");
        Advance(1250);
        _vm.Type("rx ");                         // trimmed: the same query
        Advance(1250);
        Assert.That(_calls, Has.Count.EqualTo(1));
        _vm.Type("");
        Advance(250);
        Assert.That(_calls, Has.Count.EqualTo(1));
        Assert.That(_vm.Current, Is.EqualTo(SearchState.Empty));
    }

    [Test]
    public void An_error_keeps_the_old_results_shows_the_status_and_Retry_sends_the_query_again()
    {
        _vm.Type("rx");
        Advance(1250);
        _failures.Enqueue(new ClientResponseError(null, null, 503, "Service Unavailable"));
        _vm.Type("rxj");
        Advance(1250);
        Assert.That(_vm.Current.Error, Is.EqualTo("503 Service Unavailable"));
        Assert.That(_vm.Current.Busy, Is.False, "the spinner stops on failure");
        Assert.That(_vm.Current.Query, Is.EqualTo("rxj"));
        Assert.That(_vm.Current.Results.Select(h => h.Name), Is.EqualTo(new[] { "rx!" }), "the last good results stay on screen");

        _vm.Retry();
        Assert.That(_vm.Current, Is.EqualTo(_vm.Current with { Busy = true, Error = null }), "retrying clears the error and spins");
        Assert.That(_calls.Select(c => c.Query), Is.EqualTo(new[] { "rx", "rxj", "rxj" }));
        Advance(1000);
        Assert.That(_vm.Current.Error, Is.Null);
        Assert.That(_vm.Current.Results.Select(h => h.Name), Is.EqualTo(new[] { "rxj!" }));
    }

    [Test]
    public void A_search_function_that_throws_is_an_error_state_not_a_dead_pipeline()
    {
        var vm = new SearchViewModel(_ => throw new InvalidOperationException("bad query"), _time, TimeSpan.FromMilliseconds(250));
        vm.Type("x");
        Advance(250);
        Assert.That(vm.Current.Error, Is.EqualTo("InvalidOperationException: bad query"));
        vm.Type("y");
        Advance(250);
        Assert.That(vm.Current, Is.EqualTo(vm.Current with { Query = "y" }), "later queries still run");
        vm.Dispose();
    }
}
