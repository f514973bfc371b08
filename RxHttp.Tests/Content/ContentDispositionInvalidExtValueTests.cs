using System.Reactive.Linq;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Content;

/// <summary>
/// A <c>filename*</c> whose percent-decoded bytes are not valid UTF-8 is malformed (RFC 8187 §3.2.1), so the plain
/// <c>filename</c> beside it is the name, as aiohttp (which decodes strictly and skips the parameter) and Firefox
/// pick it. It was decoded with replacement characters and won: a download was saved as "�.txt". Over real sockets.
/// </summary>
[TestFixture]
public class ContentDispositionInvalidExtValueTests
{
    private static async Task<ClientResponse> Get(RawServer server)
    {
        using var session = new ClientSession();
        var response = await session.Get(server.Url());
        await response.Read();
        return response;
    }

    private static RawServer Serve(string disposition) =>
        RawServer.Respond($"HTTP/1.1 200 OK\r\nContent-Disposition: {disposition}\r\nContent-Length: 2\r\n\r\nok");

    [TestCase("attachment; filename*=UTF-8''%E2%82.txt; filename=\"fallback.txt\"")]
    [TestCase("attachment; filename=\"fallback.txt\"; filename*=utf-8''%FF%FE.txt")]
    [TestCase("attachment; filename*0*=UTF-8''%C3; filename*1*=%28.txt; filename=fallback.txt")]
    public async Task An_ext_value_that_is_not_UTF8_gives_way_to_filename(string disposition)
    {
        await using var server = Serve(disposition);
        var response = await Get(server);
        Assert.That(response.ContentDisposition!.FileName, Is.EqualTo("fallback.txt"));
        Assert.That(response.ContentDisposition.Parameters.ContainsKey("filename*"), Is.False);
    }

    [TestCase("attachment; filename*=UTF-8''%E2%82%AC.txt; filename=\"fallback.txt\"", "€.txt")]
    [TestCase("attachment; filename*0*=UTF-8''%E2%82; filename*1*=%AC.txt; filename=fallback.txt", "€.txt")]
    [TestCase("attachment; filename*=iso-8859-1''%FF.txt; filename=fallback.txt", "ÿ.txt")]
    public async Task A_valid_ext_value_still_wins(string disposition, string expected)
    {
        await using var server = Serve(disposition);
        var response = await Get(server);
        Assert.That(response.ContentDisposition!.FileName, Is.EqualTo(expected));
    }
}
