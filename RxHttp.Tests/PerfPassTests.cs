using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>Behaviour the second performance pass must keep: reused cancellation sources, cached keys, lazy properties.</summary>
[TestFixture]
public class PerfPassTests
{
    [Test]
    public void Disposing_a_finished_subscription_does_not_cancel_a_later_one_that_reuses_its_token_source()
    {
        var first = RxAsync.FromAsync(_ => Task.FromResult(1)).Subscribe(_ => { });
        CancellationToken second = default;
        var pending = new TaskCompletionSource<int>();
        var secondSub = RxAsync.FromAsync(ct =>
        {
            second = ct;
            return pending.Task;
        }).Subscribe(_ => { }, _ => { });

        first.Dispose();
        Assert.That(second.IsCancellationRequested, Is.False, "the first request had finished: its late dispose is a no-op");
        secondSub.Dispose();
        Assert.That(second.IsCancellationRequested, Is.True, "disposing the running one still cancels it");
        pending.SetResult(2);
    }

    [Test]
    public async Task A_value_task_that_finished_synchronously_leaves_no_cancellation_behind()
    {
        CancellationToken seen = default;
        var value = await RxAsync.FromValueTask(ct =>
        {
            seen = ct;
            return ValueTask.FromResult(5);
        });
        Assert.That(value, Is.EqualTo(5));
        Assert.That(seen.CanBeCanceled, Is.True);
        Assert.That(seen.IsCancellationRequested, Is.False);
    }

    [Test]
    public async Task Requests_alternating_between_two_origins_each_reach_their_own_server_over_one_connection()
    {
        await using var a = await KestrelServer.StartAsync();
        await using var b = await KestrelServer.StartAsync();
        using var session = new ClientSession();
        for (var i = 0; i < 3; i++)
        {
            foreach (var server in new[] { a, b })
            {
                var response = await session.Get(server.Url("hello"));
                Assert.That(response.Url.Port, Is.EqualTo(Url.Parse(server.BaseUrl).Port));
                Assert.That(await response.Text(), Is.EqualTo(KestrelServer.Hello));
            }
        }
        Assert.That((a.ConnectionCount, b.ConnectionCount), Is.EqualTo((1, 1)), "each origin kept its own pooled connection");
        Assert.That(session.Connector.CurrentState.PerHost.Count, Is.Zero);
        Assert.That(session.Connector.CurrentState.Idle, Is.EqualTo(2));
    }

    [Test]
    public void Request_properties_are_created_on_demand_and_copied_per_hop()
    {
        var request = new ClientRequest("GET", Url.Parse("http://example.com/"));
        var copy = request.With();
        copy.Properties["k"] = 1;
        Assert.That(request.Properties, Is.Empty, "a copy made before any property existed does not share the dictionary");
        request.Properties["own"] = "x";
        var second = request.With();
        second.Properties.Remove("own");
        Assert.That(request.Properties["own"], Is.EqualTo("x"), "copies carry the values in their own dictionary");
        Assert.That(copy.Properties.ContainsKey("own"), Is.False);
    }
}
