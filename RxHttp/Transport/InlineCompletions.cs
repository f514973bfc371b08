using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace RxHttp.Transport;

/// <summary>
/// Per-socket access to the runtime's inline completions (<c>Socket.PreferInlineCompletions</c>, internal and
/// write-only on <see cref="Socket"/>; no public API sets it per socket). Reaching an internal member is confined to
/// the runtime it was verified on (<see cref="VerifiedRuntimeMajor"/>, Unix socket engine), so a runtime update
/// cannot change what it does unnoticed: on any other runtime, or should the member be gone, <see cref="TrySet"/>
/// reports false and sockets keep the public behaviour (completions dispatched to the thread pool, or the runtime's
/// documented process-wide switch <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>).
/// </summary>
internal static class InlineCompletions
{
    /// <summary>The runtime major version whose internal member was verified (the one the test suite runs on).</summary>
    internal const int VerifiedRuntimeMajor = 10;

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PreferInlineCompletions")]
    private static extern void SetCore(Socket socket, bool value);

    // Set once a call found the member missing: the accessor binds on its first call and throws there.
    private static volatile bool s_missing;

    /// <summary>
    /// Whether the internal member is used at all: true on the verified runtime outside Windows (where the member
    /// does not exist). Settable so tests can exercise the public fallback on the verified runtime.
    /// </summary>
    internal static bool UseInternal { get; set; } = IsVerifiedRuntime(Environment.Version, OperatingSystem.IsWindows());

    /// <summary>Whether <paramref name="runtime"/> on this platform is one the internal member was verified on.</summary>
    internal static bool IsVerifiedRuntime(Version runtime, bool windows) => !windows && runtime.Major == VerifiedRuntimeMajor;

    /// <summary>
    /// True when the runtime already completes every socket inline, by its process-wide switch (read by the runtime
    /// once, as here): a socket then has nothing to gain, and setting it back would undo the user's choice.
    /// </summary>
    public static bool ProcessWide { get; } = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";

    /// <summary>Sets the socket's completions inline or dispatched; false when that is not available here (the public fallback).</summary>
    public static bool TrySet(Socket socket, bool value)
    {
        if (!UseInternal || s_missing) return false;
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
