using System.Reactive.Linq;
using System.Text;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>The multipart reader's <c>maxPartSize</c> at its extremes, on parts that arrive over several reads.</summary>
[TestFixture]
public class MultipartPartLimitTests
{
    private const string Type = "multipart/mixed; boundary=lim";
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("--lim\r\nContent-Type: text/plain\r\n\r\nhello world\r\n--lim--\r\n");

    [Test]
    public void Int_MaxValue_as_the_limit_accepts_a_part_split_over_pushes()
    {
        var parser = new MultipartParser("lim", int.MaxValue);
        var parts = new List<ReceivedPart>();
        parser.Push(Body.AsSpan(0, 40), parts);
        parser.Push(Body.AsSpan(40), parts);
        parser.Complete();
        Assert.That(parts.Single().Text(), Is.EqualTo("hello world"));
    }

    [Test]
    public async Task Int_MaxValue_as_the_limit_reads_a_body_sent_one_byte_at_a_time()
    {
        var head = $"HTTP/1.1 200 OK\r\nContent-Type: {Type}\r\nContent-Length: {Body.Length}\r\n\r\n";
        await using var server = RawServer.Respond(head + Encoding.Latin1.GetString(Body), dribble: true);
        using var session = new ClientSession();
        var parts = await session.Get(server.Url()).SelectMany(r => r.Multipart(int.MaxValue)).ToList();
        Assert.That(parts.Select(p => p.Text()), Is.EqualTo(new[] { "hello world" }));
    }

    [Test]
    public void A_part_over_a_small_limit_still_fails_before_its_end()
    {
        var parser = new MultipartParser("lim", 4);
        Assert.Throws<ClientPayloadError>(() => parser.Push(Body.AsSpan(0, 50), new List<ReceivedPart>()));
    }
}
