using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests;

/// <summary><see cref="ClientResponse.Links"/> and <see cref="ClientResponse.ContentDisposition"/>: aiohttp's <c>links</c> and <c>content_disposition</c>.</summary>
[TestFixture]
public class ResponseHeaderViewsTests
{
    private static readonly Url Base = Url.Parse("http://api.test/v1/items?page=1");

    private static WebLinks Links(params string[] headers) => WebLinks.Parse(headers, Base);

    [Test]
    public void Github_style_pagination()
    {
        var links = Links("<https://api.github.com/user/repos?page=3&per_page=100>; rel=\"next\", " +
                          "<https://api.github.com/user/repos?page=50&per_page=100>; rel=\"last\"");
        Assert.That(links, Has.Count.EqualTo(2));
        Assert.That(links["next"]!.Url.ToString(), Is.EqualTo("https://api.github.com/user/repos?page=3&per_page=100"));
        Assert.That(links["last"]!.Url.ToString(), Is.EqualTo("https://api.github.com/user/repos?page=50&per_page=100"));
        Assert.That(links["prev"], Is.Null);
        Assert.That(links.Select(l => l.Rel), Is.EqualTo(new[] { "next", "last" }));
    }

    [Test]
    public void Targets_resolve_against_the_response_url_and_headers_keep_their_order()
    {
        var links = Links("</v1/items?page=2>; rel=next", "<?page=0>; rel=prev, <other>; rel=related");
        Assert.That(links.Select(l => l.Url.ToString()), Is.EqualTo(new[]
        {
            "http://api.test/v1/items?page=2", "http://api.test/v1/items?page=0", "http://api.test/v1/other",
        }));
    }

    [Test]
    public void Rel_lists_several_types_compared_case_insensitively()
    {
        var links = Links("<a>; REL=\"next Prefetch\"");
        Assert.That(links["prefetch"], Is.SameAs(links[0]));
        Assert.That(links["NEXT"], Is.SameAs(links[0]));
        Assert.That(links[0].Rel, Is.EqualTo("next Prefetch"), "as sent");
        Assert.That(links[0].HasRel("nex"), Is.False);
    }

    [Test]
    public void Quoted_values_may_hold_commas_semicolons_and_escaped_quotes()
    {
        var links = Links("<a>; rel=\"next\"; title=\"a, b; \\\"c\\\"\", <b>; rel=prev; type=text/html");
        Assert.That(links, Has.Count.EqualTo(2));
        Assert.That(links[0]["title"], Is.EqualTo("a, b; \"c\""));
        Assert.That(links[1]["TYPE"], Is.EqualTo("text/html"));
        Assert.That(links[1].Parameters.Select(p => p.Key), Is.EqualTo(new[] { "rel", "type" }));
    }

    [Test]
    public void Malformed_entries_are_skipped()
    {
        var links = Links("junk; title=\"x, <evil>\", <c>; rel=ok, <no-close; rel=bad", "", "<http://[bad/>; rel=badurl, <d>");
        Assert.That(links.Select(l => l.Url.Path), Is.EqualTo(new[] { "/v1/c", "/v1/d" }));
        Assert.That(links[1].Rel, Is.Null);
        Assert.That(Links(), Is.Empty);
    }

    [Test]
    public void Content_disposition_file_names()
    {
        ContentDisposition Of(string h) => ContentDisposition.Parse(h)!;
        Assert.That(Of("attachment; filename=\"report.pdf\"") is { Type: "attachment", FileName: "report.pdf" });
        // The extended form wins wherever it stands.
        Assert.That(Of("attachment; filename=\"EUR rates.pdf\"; filename*=UTF-8''%E2%82%AC%20rates.pdf").FileName, Is.EqualTo("€ rates.pdf"));
        Assert.That(Of("attachment; filename*=iso-8859-1'en'caf%E9.txt; filename=\"cafe.txt\"").FileName, Is.EqualTo("café.txt"));
        Assert.That(Of("INLINE; FILENAME= \"a\\\"b.txt\"") is { Type: "inline", FileName: "a\"b.txt" });
        Assert.That(Of("attachment; filename*0=\"foo.\"; filename*1=\"html\"").FileName, Is.EqualTo("foo.html"), "RFC 2231 continuations");
        Assert.That(Of("attachment; filename*0*=UTF-8''%E2%82%AC; filename*1=\"-1\"").FileName, Is.EqualTo("€-1"));
        // The segments are one value: a character's bytes may be split between them, and *0*'s charset is the whole's.
        Assert.That(Of("attachment; filename*0*=UTF-8''%E2%82; filename*1*=%AC.txt").FileName, Is.EqualTo("€.txt"), "a character split over two segments");
        Assert.That(Of("attachment; filename*1*=%E9.txt; filename*0*=iso-8859-1''caf").FileName, Is.EqualTo("café.txt"), "*0*'s charset, segments out of order");
        Assert.That(Of("attachment; filename*0*=UTF-8''a; filename*2=c").FileName, Is.EqualTo("a"), "a missing segment ends the value");
        Assert.That(Of("attachment; filename*1*=%E2%8; filename*0*=UTF-8''a; filename=\"x\"").FileName, Is.EqualTo("x"), "a malformed segment drops the value for the plain one");
        Assert.That(Of("attachment; filename=foo bar.txt").FileName, Is.EqualTo("foo bar.txt"), "unquoted, with a space, as browsers accept it");
        Assert.That(Of("attachment; filename*=koi8-r''%C1; filename=\"fallback.txt\"").FileName, Is.EqualTo("fallback.txt"), "an unknown charset is dropped");
        Assert.That(Of("attachment; filename*=UTF-8''%E2%8").FileName, Is.Null, "a malformed extended value is dropped");
        Assert.That(Of("form-data; name=\"field\"").Parameters["name"], Is.EqualTo("field"));
        Assert.That(Of("inline").FileName, Is.Null);
    }

    [Test]
    public void Content_disposition_without_a_valid_type_is_null()
    {
        Assert.That(ContentDisposition.Parse(null), Is.Null);
        Assert.That(ContentDisposition.Parse("  "), Is.Null);
        Assert.That(ContentDisposition.Parse("\"attachment\""), Is.Null);
        Assert.That(ContentDisposition.Parse("attachment junk; filename=a"), Is.Null);
    }

    [Test]
    public void What_multipart_parts_are_written_with_parses_back()
    {
        const string name = "naïve € \"quoted\".txt";
        var header = ContentDisposition.Format("attachment", "file", name, null);
        var parsed = ContentDisposition.Parse(header)!;
        Assert.That(parsed.FileName, Is.EqualTo(name));
        Assert.That(parsed.Parameters["name"], Is.EqualTo("file"));
    }

    [Test]
    public async Task Links_and_file_name_from_a_real_server()
    {
        await using var server = await KestrelServer.StartAsync(app =>
        {
            app.MapGet("/api/items", (HttpContext c) =>
            {
                c.Response.Headers.Append("Link", "</api/items?page=2>; rel=\"next\"");
                c.Response.Headers.Append("Link", "<https://docs.test/items>; rel=\"help\"; title=\"Items, explained\"");
                return Results.Text("[]", "application/json");
            });
            app.MapGet("/download", () => Results.File(Encoding.UTF8.GetBytes("x"), "text/plain", fileDownloadName: "résumé 2026.txt"));
        });
        using var session = new ClientSession();
        using var items = await session.Get(server.Url("api/items"));
        Assert.That(items.Links["next"]!.Url.ToString(), Is.EqualTo(server.Url("api/items?page=2")));
        Assert.That(items.Links["help"]!["title"], Is.EqualTo("Items, explained"));
        Assert.That(items.ContentDisposition, Is.Null);
        using var download = await session.Get(server.Url("download"));
        Assert.That(download.ContentDisposition is { Type: "attachment", FileName: "résumé 2026.txt" },
            $"got {download.Headers.Get("Content-Disposition")}");
        Assert.That(download.Links, Is.Empty);
    }
}
