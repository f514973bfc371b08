using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary>The observable-over-task bridge: reused cancellation sources never cancel a later subscription.</summary>
[TestFixture]
public class RxAsyncTests
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
}
