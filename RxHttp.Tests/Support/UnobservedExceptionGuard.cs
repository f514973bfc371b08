using System.Collections.Concurrent;
using NUnit.Framework;

namespace RxHttp.Tests.Support;

/// <summary>
/// Records every task exception nobody observed during the whole run. Fire-and-forget work that can fault is a
/// leak by our rules, so the run fails at the end if the finalizer thread reported any.
/// </summary>
[SetUpFixture]
public sealed class UnobservedExceptionGuard
{
    public static readonly ConcurrentQueue<Exception> Seen = new();

    [OneTimeSetUp]
    public void Hook() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    [OneTimeTearDown]
    public void Check()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        TaskScheduler.UnobservedTaskException -= OnUnobserved;
        if (Seen.IsEmpty) return;
        // A teardown failure is not counted as a failed test by the runner, so test.sh reads this file too.
        var report = Environment.GetEnvironmentVariable("RXHTTP_UNOBSERVED_REPORT");
        if (!string.IsNullOrEmpty(report))
            File.WriteAllText(report, $"{Seen.Count} unobserved task exception(s), first: {Seen.First()}");
        Assert.Fail($"{Seen.Count} unobserved task exception(s), first: {Seen.First()}");
    }

    private static void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => Seen.Enqueue(e.Exception);
}
