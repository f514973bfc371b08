using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace RxHttp.Transport;

/// <summary>
/// Per-socket access to the runtime's inline completions (<c>Socket.PreferInlineCompletions</c>, internal and
/// write-only on <see cref="Socket"/>). The property exists only in the Unix socket engine (epoll, kqueue):
/// elsewhere, or should a runtime drop it, <see cref="TrySet"/> reports false and sockets keep the runtime's way.
/// </summary>
internal static class InlineCompletions
{
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PreferInlineCompletions")]
    private static extern void SetCore(Socket socket, bool value);

    // Set once a call found the member missing: the accessor binds on its first call and throws there.
    private static volatile bool s_missing;

    /// <summary>
    /// True when the runtime already completes every socket inline, by its process-wide switch (read by the runtime
    /// once, as here): a socket then has nothing to gain, and setting it back would undo the user's choice.
    /// </summary>
    public static bool ProcessWide { get; } = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";

    /// <summary>Sets the socket's completions inline or dispatched; false when the runtime has no such setting.</summary>
    public static bool TrySet(Socket socket, bool value)
    {
        if (s_missing) return false;
        try
        {
            SetCore(socket, value);
            return true;
        }
        catch (MissingMemberException)
        {
            s_missing = true;
            return false;
        }
    }
}
