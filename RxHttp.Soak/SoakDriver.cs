namespace RxHttp.Soak;

public static class SoakDriver
{
    public static Task<int> RunAsync(int requests, int concurrency, int seed) => Task.FromResult(2);
}
