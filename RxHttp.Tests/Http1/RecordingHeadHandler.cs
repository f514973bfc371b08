using NUnit.Framework;
using System.Text;
using RxHttp.Http1;

namespace RxHttp.Tests.Http1;

/// <summary>Records every callback as text (Latin-1, so obs-text bytes stay distinguishable) for comparison.</summary>
internal sealed class RecordingHeadHandler : IHttpResponseHeadHandler
{
    public int Calls { get; private set; }
    public int Major { get; private set; } = -1;
    public int Minor { get; private set; } = -1;
    public int Status { get; private set; } = -1;
    public string? Reason { get; private set; }
    public List<(string Name, string Value)> Headers { get; } = new();

    public void OnStatusLine(int versionMajor, int versionMinor, int status, ReadOnlySpan<byte> reason)
    {
        Assert.That(Calls, Is.Zero, "the status line must be reported first and once");
        Calls++;
        Major = versionMajor;
        Minor = versionMinor;
        Status = status;
        Reason = Encoding.Latin1.GetString(reason);
    }

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Assert.That(Calls, Is.GreaterThan(0), "a header was reported before the status line");
        Calls++;
        Headers.Add((Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value)));
    }

    /// <summary>One string holding everything reported, so whole results compare with a single assertion.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append($"{Major}.{Minor} {Status} [{Reason}]");
        foreach (var (n, v) in Headers) sb.Append($" | {n}=[{v}]");
        return sb.ToString();
    }
}

/// <summary>A handler that does nothing, for allocation and timing measurements.</summary>
internal sealed class NullHeadHandler : IHttpResponseHeadHandler
{
    public int Headers;
    public void OnStatusLine(int versionMajor, int versionMinor, int status, ReadOnlySpan<byte> reason) { }
    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Headers++;
}

internal static class Bytes
{
    /// <summary>Latin-1 so test strings can spell any byte as \u00XX.</summary>
    public static byte[] Of(string s) => Encoding.Latin1.GetBytes(s);
}
