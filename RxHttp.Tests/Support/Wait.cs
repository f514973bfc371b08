namespace RxHttp.Tests.Support;

public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <paramref name="seconds"/> (a guard, not a timing assertion).</summary>
    public static async Task Until(Func<bool> condition, double seconds = 10, string? what = null, int pollMilliseconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) NUnit.Framework.Assert.Fail("Timed out waiting for " + (what ?? "condition"));
            await Task.Delay(pollMilliseconds);
        }
    }

    public static async Task<T> Within<T>(this Task<T> task, double seconds = 20)
    {
        var done = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(seconds)));
        if (done != task) NUnit.Framework.Assert.Fail($"Operation did not finish within {seconds} s");
        return await task;
    }
}
