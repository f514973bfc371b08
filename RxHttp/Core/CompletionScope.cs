namespace RxHttp;

/// <summary>
/// Marks a thread as running one of RxHttp's completions (a response or a body delivered to its observers), so
/// work those observers start, which must not run inside them (they may hold an operator's lock: Merge subscribes
/// the next request from the previous one's OnCompleted, under its gate), can run on the same thread as soon as
/// the completion returns, instead of on another thread woken for it. Work deferred here must also be queued
/// elsewhere (the thread pool) and take itself exactly once: a completion whose observer blocks never returns.
/// </summary>
internal static class CompletionScope
{
    [ThreadStatic] private static int t_depth;
    [ThreadStatic] private static List<IThreadPoolWorkItem>? t_deferred;

    /// <summary>Whether the current thread is inside a completion.</summary>
    public static bool Active => t_depth > 0;

    /// <summary>Enters a completion until the result is disposed (<c>using var scope = CompletionScope.Enter();</c>).</summary>
    public static Exit Enter()
    {
        t_depth++;
        return new Exit(entered: true);
    }

    /// <summary>Runs <paramref name="work"/> when the outermost completion of this thread returns; only while <see cref="Active"/>.</summary>
    public static void Defer(IThreadPoolWorkItem work) => (t_deferred ??= []).Add(work);

    /// <summary>Ends a completion; the outermost one runs the work deferred inside it. <c>default</c> ends nothing.</summary>
    public readonly struct Exit(bool entered) : IDisposable
    {
        /// <summary>Ends the completion.</summary>
        public void Dispose()
        {
            if (!entered) return;
            if (t_depth > 1 || t_deferred is not { Count: > 0 } deferred)
            {
                t_depth--;
                return;
            }
            // Still inside while running it: work that completes at once and defers more (Merge subscribing the next
            // request) appends to the list rather than growing the stack.
            try
            {
                for (var i = 0; i < deferred.Count; i++) deferred[i].Execute();
            }
            finally
            {
                // What did not run here (a start threw into this thread) is still queued elsewhere.
                deferred.Clear();
                t_depth--;
            }
        }
    }
}
