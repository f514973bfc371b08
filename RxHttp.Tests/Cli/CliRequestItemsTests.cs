using System.Text;
using System.Text.Json;
using NUnit.Framework;
using RxHttp.Tests.Support;

namespace RxHttp.Tests.Cli;

/// <summary>How rxhttp's request items, methods, bodies and auth options become the request, against the echo server.</summary>
[TestFixture]
public class CliRequestItemsTests : CliTestBase
{
    [Test]
    public async Task Items_become_query_headers_and_a_json_object()
    {
        var e = Echo(await CliRunner.Run("post", U("echo"), "name=rx", "n:=42", "flag:=true", "list:=[1,2]", "X-Test:yes", "q==1", "q==a b"));
        Assert.That(e.GetProperty("method").GetString(), Is.EqualTo("POST"));
        Assert.That(e.GetProperty("query").GetString(), Is.EqualTo("?q=1&q=a+b"));
        var headers = e.GetProperty("headers");
        Assert.That(headers.GetProperty("X-Test").GetString(), Is.EqualTo("yes"));
        Assert.That(headers.GetProperty("Content-Type").GetString(), Is.EqualTo("application/json"));
        Assert.That(headers.GetProperty("Accept").GetString(), Is.EqualTo("application/json, */*;q=0.5"));
        Assert.That(e.GetProperty("body").GetString(), Is.EqualTo("{\"name\":\"rx\",\"n\":42,\"flag\":true,\"list\":[1,2]}"));
    }

    [Test]
    public async Task Field_names_are_httpie_nested_json_paths_and_a_later_field_wins()
    {
        var e = Echo(await CliRunner.Run("post", U("echo"), "a[b]=1", "a[c][]:=2", "a[c][]:=3", "x=1", "l[2]=z", "x=2", "a\\[b\\]=lit", "p\\q:=null"));
        Assert.That(e.GetProperty("body").GetString(),
            Is.EqualTo("{\"a\":{\"b\":\"1\",\"c\":[2,3]},\"x\":\"2\",\"l\":[null,null,\"z\"],\"a[b]\":\"lit\",\"p\\\\q\":null}"),
            "one name once (the last value, in the first place), brackets nest, \\[ is literal, \\q keeps its backslash");
        var array = Echo(await CliRunner.Run("post", U("echo"), "[]:=1", "[]=two", "[0]:=0"));
        Assert.That(array.GetProperty("body").GetString(), Is.EqualTo("[0,\"two\"]"), "a path starting with [ makes a top-level array");

        var clash = await CliRunner.Run("post", U("echo"), "a=1", "a[b]=2");
        Assert.That((clash.Code, clash.Stderr), Is.EqualTo((1, "rxhttp: error: 'a[b]': 'a' is a string, and this path needs an object there\n")));
        var syntax = await CliRunner.Run("post", U("echo"), "a[b]c=1");
        Assert.That(syntax.Stderr, Does.StartWith("rxhttp: error: 'a[b]c': expected '['"));
        var form = Echo(await CliRunner.Run("post", U("echo"), "--form", "a[b]=1"));
        Assert.That(form.GetProperty("body").GetString(), Is.EqualTo("a%5Bb%5D=1"), "a form field keeps its name as typed");
    }

    [Test]
    public async Task A_backslash_escapes_separators_in_values_too_and_stays_before_other_characters()
    {
        var e = Echo(await CliRunner.Run("post", U("echo"), "a\\=b=c", "x=1\\=2", "t=\\@home", "p=C:\\dir\\n", "X-A:b\\:c", "q==k\\=v"));
        Assert.That(e.GetProperty("body").GetString(), Is.EqualTo("{\"a=b\":\"c\",\"x\":\"1=2\",\"t\":\"@home\",\"p\":\"C:\\\\dir\\\\n\"}"));
        Assert.That(e.GetProperty("headers").GetProperty("X-A").GetString(), Is.EqualTo("b:c"));
        Assert.That(e.GetProperty("query").GetString(), Is.EqualTo("?q=k%3Dv"));
    }

    [Test]
    public async Task Shorthand_without_a_method_is_get_or_post_with_data()
    {
        var port = Server.Port;
        Assert.That(Echo(await CliRunner.Run($":{port}/echo")).GetProperty("method").GetString(), Is.EqualTo("GET"));
        Assert.That(Echo(await CliRunner.Run($"127.0.0.1:{port}/echo", "a=1")).GetProperty("method").GetString(), Is.EqualTo("POST"));
        Assert.That(Echo(await CliRunner.Run("PUT", U("echo"))).GetProperty("method").GetString(), Is.EqualTo("PUT"));
    }

    [Test]
    public async Task Any_method_word_is_sent_uppercased_as_in_httpie()
    {
        Assert.That(Echo(await CliRunner.Run("PURGE", U("echo"))).GetProperty("method").GetString(), Is.EqualTo("PURGE"));
        var propfind = Echo(await CliRunner.Run("propfind", U("echo"), "Depth:1", "a=1"));
        Assert.That(propfind.GetProperty("method").GetString(), Is.EqualTo("PROPFIND"), "a lower-case word before a full URL");
        Assert.That(propfind.GetProperty("body").GetString(), Is.EqualTo("{\"a\":\"1\"}"));
        var host = await CliRunner.Run("myhost", "X-A:1", "--offline");
        Assert.That(Encoding.Latin1.GetString(host.Stdout), Does.StartWith("GET / HTTP/1.1\r\nHost: myhost\r\n"), "a lower-case word before an item is still the URL");
    }

    [Test]
    public async Task Shorthand_with_a_piped_or_raw_body_is_a_post_as_in_httpie()
    {
        var piped = Echo(await new CliRunner { Stdin = "{\"piped\":1}" }.RunAsync(U("echo")));
        Assert.That((piped.GetProperty("method").GetString(), piped.GetProperty("body").GetString()), Is.EqualTo(("POST", "{\"piped\":1}")));
        var raw = Echo(await CliRunner.Run("--raw", "text", U("echo")));
        Assert.That((raw.GetProperty("method").GetString(), raw.GetProperty("body").GetString()), Is.EqualTo(("POST", "text")));
        var empty = Echo(await new CliRunner { Stdin = "" }.RunAsync(U("echo")));
        Assert.That(empty.GetProperty("method").GetString(), Is.EqualTo("GET"), "an empty pipe is no body");
        var typed = Echo(await new CliRunner { Stdin = "x" }.RunAsync("get", U("echo")));
        Assert.That(typed.GetProperty("method").GetString(), Is.EqualTo("GET"), "a method typed is kept");
    }

    [Test]
    public async Task Form_and_multipart_bodies()
    {
        var form = Echo(await CliRunner.Run("post", U("echo"), "--form", "name=rx", "x=a b&c"));
        Assert.That(form.GetProperty("headers").GetProperty("Content-Type").GetString(), Does.StartWith("application/x-www-form-urlencoded"));
        Assert.That(form.GetProperty("body").GetString(), Is.EqualTo("name=rx&x=a+b%26c"));

        var file = Path.Combine(Dir, "note.txt");
        await File.WriteAllTextAsync(file, "file contents");
        var multi = Echo(await CliRunner.Run("post", U("echo"), "--multipart", "title=report", $"doc@{file}"));
        Assert.That(multi.GetProperty("headers").GetProperty("Content-Type").GetString(), Does.StartWith("multipart/form-data; boundary="));
        var body = multi.GetProperty("body").GetString();
        Assert.That(body, Does.Contain("name=\"title\"").And.Contain("report").And.Contain("filename=\"note.txt\"").And.Contain("file contents"));

        var ordered = Echo(await CliRunner.Run("post", U("echo"), "--form", "a=1", $"doc@{file}", "z=2")).GetProperty("body").GetString()!;
        var parts = new[] { "name=\"a\"", "name=\"doc\"", "name=\"z\"" }.Select(n => ordered.IndexOf(n, StringComparison.Ordinal)).ToArray();
        Assert.That(parts[0], Is.GreaterThanOrEqualTo(0), ordered);
        Assert.That(parts, Is.Ordered.And.Unique, "parts in the order typed, the file between the fields (httpie)");
        var plain = Echo(await CliRunner.Run("post", U("echo"), "--multipart", "only=text"));
        Assert.That(plain.GetProperty("headers").GetProperty("Content-Type").GetString(), Does.StartWith("multipart/form-data"), "--multipart without files is still multipart");

        var refused = await CliRunner.Run("post", U("echo"), $"doc@{file}");
        Assert.That(refused.Code, Is.EqualTo(1));
        Assert.That(refused.Stderr, Does.Contain("--form or --multipart"));
    }

    [Test]
    public async Task Bodies_from_files_raw_text_and_stdin()
    {
        var json = Path.Combine(Dir, "body.json");
        await File.WriteAllTextAsync(json, "{\"from\":\"file\"}");
        var fromFile = Echo(await CliRunner.Run("post", U("echo"), $"@{json}"));
        Assert.That(fromFile.GetProperty("body").GetString(), Is.EqualTo("{\"from\":\"file\"}"));
        Assert.That(fromFile.GetProperty("headers").GetProperty("Content-Type").GetString(), Is.EqualTo("application/json"));

        var text = Path.Combine(Dir, "text.txt");
        await File.WriteAllTextAsync(text, "line");
        var embedded = Echo(await CliRunner.Run("post", U("echo"), $"t=@{text}", $"j:=@{json}"));
        Assert.That(embedded.GetProperty("body").GetString(), Is.EqualTo("{\"t\":\"line\",\"j\":{\"from\":\"file\"}}"));

        var raw = Echo(await CliRunner.Run("post", U("echo"), "--raw", "raw text"));
        Assert.That(raw.GetProperty("body").GetString(), Is.EqualTo("raw text"));

        var piped = Echo(await new CliRunner { Stdin = "{\"piped\":1}" }.RunAsync("post", U("echo")));
        Assert.That(piped.GetProperty("body").GetString(), Is.EqualTo("{\"piped\":1}"));
        var ignored = Echo(await new CliRunner { Stdin = "ignored" }.RunAsync("post", U("echo"), "--ignore-stdin"));
        Assert.That(ignored.GetProperty("bodyLength").GetInt32(), Is.EqualTo(0));
    }

    [Test]
    public async Task Header_values_go_out_without_surrounding_whitespace_as_in_httpie()
    {
        var value = Path.Combine(Dir, "value.txt");
        await File.WriteAllTextAsync(value, " from file \t\r\n");
        // --offline shows the bytes the library writes to the socket (a server would trim them away before we saw them).
        var r = await CliRunner.Run("--offline", "get", U("echo"), "X-Spaced:  a  b \t", $"X-File:@{value}", "X-Blank:   ");
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("\r\nX-Spaced: a  b\r\n").And.Contain("\r\nX-File: from file\r\n").And.Contain("\r\nX-Blank: \r\n"),
            "RFC 9110's field value has no leading or trailing whitespace; only the inner run is kept");
    }

    [Test]
    public async Task Header_and_query_values_can_come_from_files()
    {
        var token = Path.Combine(Dir, "token.txt");
        await File.WriteAllTextAsync(token, "s3cret\n");
        var e = Echo(await CliRunner.Run("get", U("echo"), $"X-Token:@{token}", $"q==@{token}", "X-Handle:\\@me"));
        Assert.That(e.GetProperty("headers").GetProperty("X-Token").GetString(), Is.EqualTo("s3cret"), "without the final newline");
        Assert.That(e.GetProperty("query").GetString(), Is.EqualTo("?q=s3cret"));
        Assert.That(e.GetProperty("headers").GetProperty("X-Handle").GetString(), Is.EqualTo("@me"), "\\@ is a literal @");
        var missing = await CliRunner.Run("get", U("echo"), "X-Token:@/no/such/file");
        Assert.That(missing.Code, Is.EqualTo(1));
        Assert.That(missing.Stderr, Does.StartWith("rxhttp: error: 'X-Token:@/no/such/file': cannot read /no/such/file"));
    }

    [Test]
    public async Task Header_items_remove_and_empty_headers_and_bearer_adds_authorization()
    {
        var e = Echo(await CliRunner.Run("get", U("echo"), "User-Agent:", "X-Empty;", "--bearer", "t0k"));
        var headers = e.GetProperty("headers");
        Assert.That(headers.TryGetProperty("User-Agent", out _), Is.False, "Header: removes a default header");
        Assert.That(headers.GetProperty("X-Empty").GetString(), Is.EqualTo(""));
        Assert.That(headers.GetProperty("Authorization").GetString(), Is.EqualTo("Bearer t0k"));
        var httpieStyle = Echo(await CliRunner.Run("get", U("echo"), "-A", "bearer", "-a", "t0k"));
        Assert.That(httpieStyle.GetProperty("headers").GetProperty("Authorization").GetString(), Is.EqualTo("Bearer t0k"), "httpie 3's -A bearer -a TOKEN");
    }

    [Test]
    public async Task Basic_auth_and_check_status()
    {
        var ok = await CliRunner.Run("get", U("basic"), "--auth", "me:pw", "--check-status");
        Assert.That((ok.Code, ok.Out), Is.EqualTo((0, "welcome")), ok.ToString());
        var wrong = await CliRunner.Run("get", U("basic"), "-a", "me:nope", "--check-status");
        Assert.That(wrong.Code, Is.EqualTo(4));
        Assert.That(wrong.Stderr, Is.EqualTo("rxhttp: warning: HTTP 401 Unauthorized\n"));
        Assert.That((await CliRunner.Run("get", U("basic"))).Code, Is.EqualTo(0), "without --check-status a 401 is a success");
        Assert.That((await CliRunner.Run("get", U("status/503"), "--check-status")).Code, Is.EqualTo(5));
        Assert.That((await CliRunner.Run("get", U("status/201"), "--check-status")).Code, Is.EqualTo(0));
        // httpie maps only 3xx/4xx/5xx; a status beyond 599 is no server error.
        var custom = await CliRunner.Run("get", U("status/699"), "--check-status");
        Assert.That((custom.Code, custom.Stderr), Is.EqualTo((0, "")), custom.ToString());
        var quiet = await new CliRunner { Terminal = true }.RunAsync("get", U("basic"), "-q", "-v", "--check-status");
        Assert.That((quiet.Code, quiet.Out, quiet.Stderr), Is.EqualTo((4, "", "rxhttp: warning: HTTP 401 Unauthorized\n")), "httpie's -q: only the warning");
    }

    [Test]
    public async Task Digest_auth_answers_the_challenge_once()
    {
        var before = Volatile.Read(ref Routes.DigestHits);
        var ok = await CliRunner.Run("get", U("digest"), "--auth", "me:pw", "--auth-type", "digest", "--check-status");
        Assert.That((ok.Code, ok.Out), Is.EqualTo((0, "digest welcome")), ok.ToString());
        Assert.That(Volatile.Read(ref Routes.DigestHits) - before, Is.EqualTo(2), "the challenge, then the answer");

        before = Volatile.Read(ref Routes.DigestHits);
        var wrong = await CliRunner.Run("get", U("digest"), "-a", "me:nope", "-A", "digest", "--check-status");
        Assert.That((wrong.Code, wrong.Stderr), Is.EqualTo((4, "rxhttp: warning: HTTP 401 Unauthorized\n")), wrong.ToString());
        Assert.That(Volatile.Read(ref Routes.DigestHits) - before, Is.EqualTo(2), "a wrong password is tried once, not in a loop");

        var basic = await CliRunner.Run("get", U("digest"), "--auth", "me:pw", "--check-status");
        Assert.That(basic.Code, Is.EqualTo(4), "Basic (the default --auth-type) is not accepted by a digest realm");
        var offline = await CliRunner.Run("get", U("digest"), "--auth", "me:pw", "--auth-type", "digest", "--offline");
        Assert.That(offline.Out, Does.Not.Contain("Authorization"), "digest answers a challenge: nothing is sent up front");
    }
}
