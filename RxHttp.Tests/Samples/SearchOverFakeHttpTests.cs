// A namespace of its own, with its usings inside: RxHttp.Tests.Samples has a SearchViewModel of its own (RxHttp.Testing's sample).
namespace RxHttp.Tests.Samples.Tui;

using NUnit.Framework;
using RxHttp.Samples.Tui;
using RxHttp.Samples.Tui.ViewModels;
using RxHttp.Testing;

/// <summary>
/// The UI sample's search, end to end in virtual time: the view model over the app's own <see cref="DemoApi"/> and a
/// real <see cref="ClientSession"/> whose server is RxHttp.Testing's <see cref="FakeHttp"/>, all on one
/// <see cref="TestScheduler"/> (debounce, scripted server delays, the UI hop).
/// </summary>
public class SearchOverFakeHttpTests
{
    private const string Base = "http://demo.test/";

    private static FakeResponse Hits(string query, params string[] names) =>
        FakeResponse.Status(200).Json(new { query, results = names.Select(n => new { name = n, stars = n.Length }) }).After(TimeSpan.FromSeconds(1));

    private static (TestScheduler Time, FakeHttp Http, ClientSession Session, SearchViewModel Vm) Create()
    {
        var time = new TestScheduler();
        var http = new FakeHttp();
        var session = new ClientSession(Base, new ClientSessionOptions { Connector = http.Connector, ConnectorOwner = false, Scheduler = time });
        var vm = new SearchViewModel(new DemoApi(session, Path.GetTempPath()).Search, time, TimeSpan.FromMilliseconds(250));
        return (time, http, session, vm);
    }

    // TestScheduler runs work scheduled for "now" one tick later, so the UI hop (ObserveOn) after an answer that
    // arrives exactly at the end of an advance needs that tick too.
    private static void Advance(TestScheduler time, int milliseconds) => time.AdvanceBy(TimeSpan.FromMilliseconds(milliseconds).Ticks + 1);

    [Test]
    public void Only_the_settled_query_is_sent_and_a_superseded_request_is_aborted_on_the_wire()
    {
        var (time, http, session, vm) = Create();
        using (http)
        using (session)
        using (vm)
        {
            http.When("GET", Base + "search?q=rx").Respond(Hits("rx", "rxjava", "rxjs"));
            http.When("GET", Base + "search?q=rxj").Respond(Hits("rxj", "rxjava"));

            vm.Type("r");
            Advance(time, 100);
            vm.Type("rx");
            Advance(time, 250);
            Assert.That(http.Calls.Select(c => c.Url), Is.EqualTo(new[] { Base + "search?q=rx" }), "\"r\" was typed over before the pause");
            Advance(time, 500);
            vm.Type("rxj");
            Advance(time, 250);
            Assert.That(http.Calls.Select(c => (c.Url, c.Aborted)), Is.EqualTo(new[] { (Base + "search?q=rx", true), (Base + "search?q=rxj", false) }),
                "the request for \"rx\" was cancelled: its connection closed before the answer");
            Assert.That(vm.Current.Busy, Is.True);
            Advance(time, 1000);
            Assert.That(vm.Current, Is.EqualTo(vm.Current with { Query = "rxj", Busy = false, Error = null }));
            Assert.That(vm.Current.Results, Is.EqualTo(new[] { new SearchHit("rxjava", 6) }));
        }
    }

    [Test]
    public void A_503_shows_as_the_error_and_Retry_sends_the_query_again()
    {
        var (time, http, session, vm) = Create();
        using (http)
        using (session)
        using (vm)
        {
            http.When("GET", Base + "search?q=flaky").Respond(FakeResponse.Status(503).After(TimeSpan.FromSeconds(1))).Respond(Hits("flaky", "polly"));

            vm.Type("flaky");
            Advance(time, 1250);
            Assert.That(vm.Current.Error, Is.EqualTo("503 Service Unavailable"));
            Assert.That(vm.Current.Busy, Is.False);

            vm.Retry();
            Advance(time, 1000);
            Assert.That(vm.Current.Error, Is.Null);
            Assert.That(vm.Current.Results.Select(h => h.Name), Is.EqualTo(new[] { "polly" }));
            http.ShouldHaveCalled(Base + "search?q=flaky").Times(2);
        }
    }
}
