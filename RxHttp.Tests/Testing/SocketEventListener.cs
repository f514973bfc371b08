using System.Diagnostics.Tracing;

namespace RxHttp.Tests.Testing;

/// <summary>Collects the runtime's socket-connect and name-resolution events raised while it lives.</summary>
internal sealed class SocketEventListener : EventListener
{
    private readonly List<string> _events = new();

    public IReadOnlyList<string> Events
    {
        get { lock (_events) return _events.ToList(); }
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name is "System.Net.Sockets" or "System.Net.NameResolution") EnableEvents(source, EventLevel.Informational);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is "ConnectStart" or "ResolutionStart" or "AcceptStart")
            lock (_events) _events.Add($"{e.EventSource.Name}/{e.EventName}");
    }
}
