using NUnit.Framework;

namespace RxHttp.Tests;

/// <summary>
/// Work deferred inside RxHttp's completions runs on the same thread when the outermost completion returns, in the
/// order it was deferred; work deferred while that runs joins the same pass instead of nesting deeper.
/// </summary>
[TestFixture]
public class CompletionScopeTests
{
    private sealed class Work(List<string> log, string name, Action? then = null) : IThreadPoolWorkItem
    {
        public int Depth { get; private set; } = -1;

        public void Execute()
        {
            log.Add(name);
            Depth = new System.Diagnostics.StackTrace().FrameCount;
            then?.Invoke();
        }
    }

    [Test]
    public void Deferred_work_runs_when_the_outermost_scope_ends_not_before()
    {
        var log = new List<string>();
        using (CompletionScope.Enter())
        {
            using (CompletionScope.Enter())
            {
                CompletionScope.Defer(new Work(log, "a"));
                log.Add("inner body");
            }
            log.Add("after inner");
            CompletionScope.Defer(new Work(log, "b"));
            Assert.That(CompletionScope.Active, Is.True);
        }
        Assert.That(log, Is.EqualTo(new[] { "inner body", "after inner", "a", "b" }));
        Assert.That(CompletionScope.Active, Is.False);
    }

    [Test]
    public void Work_deferred_while_draining_runs_in_the_same_pass_without_growing_the_stack()
    {
        var log = new List<string>();
        var works = new List<Work>();
        Action? chain = null;
        var left = 50;
        chain = () =>
        {
            if (--left == 0) return;
            var next = new Work(log, $"w{left}", chain);
            works.Add(next);
            CompletionScope.Defer(next);
        };
        using (CompletionScope.Enter())
        {
            var first = new Work(log, "w50", chain);
            works.Add(first);
            CompletionScope.Defer(first);
        }
        Assert.That(log, Has.Count.EqualTo(50));
        Assert.That(works.Select(w => w.Depth).Distinct().Count(), Is.EqualTo(1), "each ran from the same frame, none inside another");
    }

    [Test]
    public void A_default_exit_ends_nothing()
    {
        var log = new List<string>();
        using (CompletionScope.Enter())
        {
            CompletionScope.Defer(new Work(log, "a"));
            using (default(CompletionScope.Exit)) { }
            Assert.That(CompletionScope.Active, Is.True);
            Assert.That(log, Is.Empty);
        }
        Assert.That(log, Is.EqualTo(new[] { "a" }));
    }
}
