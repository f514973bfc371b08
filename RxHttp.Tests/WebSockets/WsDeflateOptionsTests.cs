using RxHttp.WebSockets;
using NUnit.Framework;

namespace RxHttp.Tests.WebSockets;

public class WsDeflateOptionsTests
{
    [Test]
    public void Offer_matches_aiohttp_ws_ext_gen()
    {
        Assert.That(WsDeflateOptions.IsSupported, Is.True, "the runtime's zlib shim loads");
        Assert.That(WsDeflateOptions.BuildOffer(), Is.EqualTo("permessage-deflate; client_max_window_bits"));
        Assert.That(WsDeflateOptions.BuildOffer(10, serverNoContextTakeover: true),
            Is.EqualTo("permessage-deflate; client_max_window_bits; server_max_window_bits=10; server_no_context_takeover"));
        Assert.Throws<ArgumentOutOfRangeException>(() => WsDeflateOptions.BuildOffer(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => WsDeflateOptions.BuildOffer(16));
    }

    [Test]
    public void Declined_compression_is_not_an_error()
    {
        Assert.That(WsDeflateOptions.ParseResponse(null, out var error), Is.Null);
        Assert.That(error, Is.Null);
        Assert.That(WsDeflateOptions.ParseResponse("  ", out error), Is.Null);
        Assert.That(error, Is.Null);
    }

    [Test]
    public void Valid_responses()
    {
        Assert.That(WsDeflateOptions.ParseResponse("permessage-deflate", out var error), Is.EqualTo(new WsDeflateOptions()));
        Assert.That(error, Is.Null);
        Assert.That(WsDeflateOptions.ParseResponse("Permessage-Deflate; client_max_window_bits=10; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=\"12\"", out error),
            Is.EqualTo(new WsDeflateOptions(true, true, 12, 10)));
        Assert.That(error, Is.Null);
        Assert.That(WsDeflateOptions.ParseResponse("permessage-deflate; server_max_window_bits=9", out _, compress: 10)!.ServerMaxWindowBits, Is.EqualTo(9));
    }

    [TestCase("permessage-deflate; foo")]
    [TestCase("permessage-deflate; foo=1")]
    [TestCase("permessage-deflate; server_no_context_takeover; server_no_context_takeover")]
    [TestCase("permessage-deflate; client_max_window_bits=10; client_max_window_bits=11")]
    [TestCase("permessage-deflate; client_max_window_bits")]
    [TestCase("permessage-deflate; client_max_window_bits=16")]
    [TestCase("permessage-deflate; client_max_window_bits=7")]
    [TestCase("permessage-deflate; client_max_window_bits=010")]
    [TestCase("permessage-deflate; client_max_window_bits=8")]
    [TestCase("permessage-deflate; server_max_window_bits")]
    [TestCase("permessage-deflate; server_max_window_bits=abc")]
    [TestCase("permessage-deflate; server_no_context_takeover=1")]
    [TestCase("x-webkit-deflate-frame")]
    [TestCase("permessage-deflate, permessage-deflate")]
    [TestCase("permessage-deflate;")]
    public void Invalid_responses_are_errors(string header)
    {
        Assert.That(WsDeflateOptions.ParseResponse(header, out var error), Is.Null);
        Assert.That(error, Does.StartWith("Invalid permessage-deflate response"));
    }

    [Test]
    public void Parameters_the_client_did_not_offer_are_errors()
    {
        Assert.That(WsDeflateOptions.ParseResponse("permessage-deflate; client_max_window_bits=12", out var error, offerClientMaxWindowBits: false), Is.Null);
        Assert.That(error, Does.Contain("not offered"));
        Assert.That(WsDeflateOptions.ParseResponse("permessage-deflate; server_max_window_bits=12", out error, compress: 10), Is.Null);
        Assert.That(error, Does.Contain("exceeds"));
    }

    [Test]
    public void Negotiated_options_build_a_matching_codec_pair()
    {
        var options = WsDeflateOptions.ParseResponse("permessage-deflate; client_max_window_bits=11; client_no_context_takeover", out _)!;
        using var deflater = options.CreateDeflater();
        Assert.That(deflater.NoContextTakeover, Is.True);
        using var inflater = options.CreateInflater();
        Assert.That(inflater.NoContextTakeover, Is.False);
    }
}
