using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RxHttp.Tests.Support;

/// <summary>
/// A Debian peer (tinyproxy, microsocks) run on a free loopback port for a fixture: started, waited for until its
/// port accepts, and killed on dispose. <c>test.sh</c> installs the packages.
/// </summary>
internal sealed class LocalDaemon : IDisposable
{
    private readonly Process _process;

    /// <summary>A port free on 127.0.0.1 now, for a daemon to listen on.</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public LocalDaemon(string file, string arguments, int port)
    {
        Port = port;
        _process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })
                   ?? throw new InvalidOperationException($"{file} did not start (apt-get install {file})");
        _process.ErrorDataReceived += (_, _) => { };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Connect(IPAddress.Loopback, Port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                Thread.Sleep(20);
            }
        }
    }

    public int Port { get; }

    public void Dispose()
    {
        try { _process.Kill(); _process.WaitForExit(2000); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
