using NUnit.Framework;
using RxHttp.Http1;

namespace RxHttp.Tests.Http1;

public class HttpFramingTests
{
    private static string[] L(params string[] values) => values;

    private static BodyFraming Decide(string method, int status, string[] te, string[] cl, out long length)
        => HttpFraming.Decide(method, status, te, cl, out length);

    [TestCase("GET", 100)]
    [TestCase("GET", 101)]
    [TestCase("GET", 199)]
    [TestCase("GET", 204)]
    [TestCase("GET", 304)]
    [TestCase("HEAD", 200)]
    [TestCase("HEAD", 404)]
    [TestCase("CONNECT", 200)]
    public void Responses_without_a_body_are_None_whatever_the_headers_say(string method, int status)
    {
        Assert.That(Decide(method, status, L("chunked"), L(), out long length), Is.EqualTo(BodyFraming.None));
        Assert.That(length, Is.Zero);
        Assert.That(Decide(method, status, L(), L("10"), out length), Is.EqualTo(BodyFraming.None));
        Assert.That(length, Is.Zero);
        Assert.That(Decide(method, status, L(), L(), out length), Is.EqualTo(BodyFraming.None));
    }

    [Test]
    public void Method_match_is_exact_and_connect_only_skips_the_body_for_2xx()
    {
        Assert.That(Decide("head", 200, L(), L("10"), out _), Is.EqualTo(BodyFraming.ContentLength), "methods are case-sensitive");
        Assert.That(Decide("CONNECT", 407, L(), L("10"), out long length), Is.EqualTo(BodyFraming.ContentLength));
        Assert.That(length, Is.EqualTo(10));
        Assert.That(Decide("GET", 205, L(), L(), out _), Is.EqualTo(BodyFraming.UntilClose));
    }

    [TestCase("chunked")]
    [TestCase("Chunked")]
    [TestCase("CHUNKED")]
    [TestCase("gzip, chunked")]
    [TestCase("gzip,chunked")]
    [TestCase(" gzip ,\tchunked ")]
    [TestCase("gzip, , chunked")]
    public void Final_chunked_coding_means_Chunked(string te)
    {
        Assert.That(Decide("GET", 200, L(te), L(), out long length), Is.EqualTo(BodyFraming.Chunked));
        Assert.That(length, Is.EqualTo(-1));
    }

    [Test]
    public void Codings_across_several_header_lines_form_one_list()
        => Assert.That(Decide("GET", 200, L("gzip", "chunked"), L(), out _), Is.EqualTo(BodyFraming.Chunked));

    [TestCase("gzip")]
    [TestCase("identity")]
    [TestCase("gzip;q=1")]
    [TestCase("chunked, gzip")]
    [TestCase("chunked, deflate")]
    [TestCase("chunked,identity")]
    [TestCase("gzip, chunked, br")]
    public void Transfer_encoding_without_final_chunked_reads_until_close(string te)
    {
        Assert.That(Decide("GET", 200, L(te), L(), out long length), Is.EqualTo(BodyFraming.UntilClose));
        Assert.That(length, Is.EqualTo(-1));
    }

    [TestCase("chunked, gzip, chunked", "more than once")]
    [TestCase("chunked, chunked", "more than once")]
    [TestCase("chunked,CHUNKED", "more than once")]
    [TestCase("", "lists no coding")]
    [TestCase(" , ", "lists no coding")]
    [TestCase(";q=1", "parameter without a coding")]
    public void Bad_transfer_encoding_throws(string te, string message)
    {
        var ex = Assert.Throws<HttpParseException>(() => Decide("GET", 200, L(te), L(), out _));
        Assert.That(ex!.Message, Does.Contain(message));
        Assert.That(ex.IsPayloadError, Is.False);
    }

    [Test]
    public void Chunked_in_an_earlier_header_line_followed_by_another_coding_reads_until_close()
    {
        // RFC 9112 §6.3 item 4: the codings of all Transfer-Encoding lines form one list; chunked is not last.
        Assert.That(Decide("GET", 200, L("chunked", "identity"), L(), out long length), Is.EqualTo(BodyFraming.UntilClose));
        Assert.That(length, Is.EqualTo(-1));
        Assert.That(Decide("GET", 200, L("chunked", "gzip"), L(), out _), Is.EqualTo(BodyFraming.UntilClose));
        var ex = Assert.Throws<HttpParseException>(() => Decide("GET", 200, L("chunked", "chunked"), L(), out _));
        Assert.That(ex!.Message, Does.Contain("more than once"));
    }

    [TestCase("chunked")]
    [TestCase("gzip")]
    public void Transfer_encoding_with_content_length_throws(string te)
    {
        var ex = Assert.Throws<HttpParseException>(() => Decide("GET", 200, L(te), L("5"), out _));
        Assert.That(ex!.Message, Does.Contain("both Transfer-Encoding and Content-Length"));
    }

    [TestCase(new[] { "5" }, 5L)]
    [TestCase(new[] { "00012" }, 12L)]
    [TestCase(new[] { " 7 " }, 7L)]
    [TestCase(new[] { "5, 5" }, 5L)]
    [TestCase(new[] { "5,5,5" }, 5L)]
    [TestCase(new[] { "5", "5" }, 5L)]
    [TestCase(new[] { "5, 5", "5" }, 5L)]
    [TestCase(new[] { "9223372036854775807" }, long.MaxValue)]
    public void Valid_content_length(string[] cl, long expected)
    {
        Assert.That(Decide("GET", 200, L(), cl, out long length), Is.EqualTo(BodyFraming.ContentLength));
        Assert.That(length, Is.EqualTo(expected));
    }

    [TestCase("0")]
    [TestCase("000")]
    [TestCase("0, 0")]
    public void Zero_content_length_is_None_with_length_zero(string cl)
    {
        Assert.That(Decide("GET", 200, L(), L(cl), out long length), Is.EqualTo(BodyFraming.None));
        Assert.That(length, Is.Zero);
    }

    [TestCase(new[] { "5, 6" }, "Conflicting Content-Length")]
    [TestCase(new[] { "5", "6" }, "Conflicting Content-Length")]
    [TestCase(new[] { "0", "5" }, "Conflicting Content-Length")]
    [TestCase(new[] { "-1" }, "not a non-negative decimal number")]
    [TestCase(new[] { "+5" }, "not a non-negative decimal number")]
    [TestCase(new[] { "5a" }, "not a non-negative decimal number")]
    [TestCase(new[] { "0x10" }, "not a non-negative decimal number")]
    [TestCase(new[] { "1 2" }, "not a non-negative decimal number")]
    [TestCase(new[] { "1.0" }, "not a non-negative decimal number")]
    [TestCase(new[] { "\u0665" }, "not a non-negative decimal number")] // Arabic-Indic five: a digit to char.IsDigit, not to HTTP
    [TestCase(new[] { "9223372036854775808" }, "too large")]
    [TestCase(new[] { "99999999999999999999999" }, "too large")]
    [TestCase(new[] { "" }, "empty value")]
    [TestCase(new[] { "5," }, "empty value")]
    public void Bad_content_length_throws(string[] cl, string message)
    {
        var ex = Assert.Throws<HttpParseException>(() => Decide("GET", 200, L(), cl, out _));
        Assert.That(ex!.Message, Does.Contain(message));
        Assert.That(ex.IsPayloadError, Is.False);
    }

    [Test]
    public void No_framing_headers_means_until_close()
    {
        Assert.That(Decide("GET", 200, L(), L(), out long length), Is.EqualTo(BodyFraming.UntilClose));
        Assert.That(length, Is.EqualTo(-1));
    }

    [TestCase(1, 1, new string[0], true)]
    [TestCase(1, 1, new[] { "close" }, false)]
    [TestCase(1, 1, new[] { "Close" }, false)]
    [TestCase(1, 1, new[] { "keep-alive" }, true)]
    [TestCase(1, 1, new[] { "Upgrade, CLOSE" }, false)]
    [TestCase(1, 1, new[] { "upgrade", " close " }, false)]
    [TestCase(1, 1, new[] { "closed" }, true)]
    [TestCase(1, 1, new[] { "x-close" }, true)]
    [TestCase(1, 0, new string[0], false)]
    [TestCase(1, 0, new[] { "keep-alive" }, true)]
    [TestCase(1, 0, new[] { "Keep-Alive" }, true)]
    [TestCase(1, 0, new[] { "foo,\tkeep-alive" }, true)]
    [TestCase(1, 0, new[] { "keep-alive, close" }, false)]
    [TestCase(1, 0, new[] { "keep-alive-ish" }, false)]
    [TestCase(1, 0, new[] { "close" }, false)]
    public void Keep_alive(int major, int minor, string[] connection, bool expected)
        => Assert.That(HttpFraming.IsKeepAlive(major, minor, connection), Is.EqualTo(expected));

    [TestCase("timeout=5, max=100", 5)]
    [TestCase("max=100,Timeout = 7", 7)]
    [TestCase("timeout=0", 0)]
    public void Keep_Alive_timeout_is_the_servers_idle_time_in_seconds(string value, int seconds)
        => Assert.That(HttpFraming.KeepAliveTimeout(value), Is.EqualTo(TimeSpan.FromSeconds(seconds)));

    [TestCase(null)]
    [TestCase("max=100")]
    [TestCase("timeout=-1")]
    [TestCase("timeout=1.5")]
    [TestCase("timeout")]
    public void Keep_Alive_without_a_whole_non_negative_timeout_names_none(string? value)
        => Assert.That(HttpFraming.KeepAliveTimeout(value), Is.Null);
}
