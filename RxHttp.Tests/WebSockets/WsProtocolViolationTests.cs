using RxHttp.WebSockets;
using NUnit.Framework;
using static RxHttp.Tests.WebSockets.WsTestHelpers;

namespace RxHttp.Tests.WebSockets;

public class WsProtocolViolationTests
{
    private const WsCloseCode P = WsCloseCode.ProtocolError;

    [Test]
    public void Masked_frame_from_the_server_is_1002() => Assert.That(FailCode(Frame(0x82, "x"u8, mask: true)), Is.EqualTo(P));

    [TestCase(0xA2)] // RSV2
    [TestCase(0x92)] // RSV3
    [TestCase(0xC2)] // RSV1 without permessage-deflate
    public void Reserved_bits_without_an_extension_are_1002(int b0) => Assert.That(FailCode(Frame((byte)b0, "x"u8)), Is.EqualTo(P));

    [Test]
    public void Unknown_opcodes_are_1002([Values(3, 4, 5, 6, 7, 11, 12, 13, 14, 15)] int opcode)
        => Assert.That(FailCode(Frame((byte)(0x80 | opcode), default)), Is.EqualTo(P));

    [Test]
    public void Violations_fail_on_the_first_two_bytes()
    {
        using var reader = new WsFrameReader();
        Assert.Throws<WebSocketProtocolException>(() => reader.TryRead(new byte[] { 0x83, 0x7F }, out _, out _), "no need to wait for the 64-bit length");
        Assert.Throws<InvalidOperationException>(() => reader.TryRead(new byte[] { 0x82, 0x00 }, out _, out _), "a failed reader stays failed");
    }

    [Test]
    public void Fragmented_control_frame_is_1002() => Assert.That(FailCode(Frame(0x09, "x"u8)), Is.EqualTo(P));

    [Test]
    public void Control_frame_over_125_bytes_is_1002() => Assert.That(FailCode(Frame(0x89, new byte[126])), Is.EqualTo(P));

    [Test]
    public void Sixty_four_bit_length_with_the_msb_set_is_1002()
        => Assert.That(FailCode([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1]), Is.EqualTo(P));

    [Test]
    public void Continuation_without_a_start_is_1002() => Assert.That(FailCode(Frame(0x80, "x"u8)), Is.EqualTo(P));

    [Test]
    public void New_data_frame_inside_a_fragmented_message_is_1002()
        => Assert.That(FailCode(Concat(Frame(0x01, "a"u8), Frame(0x82, "b"u8))), Is.EqualTo(P));

    [Test]
    public void Invalid_utf8_text_is_1007()
    {
        Assert.That(FailCode(Frame(0x81, [0x61, 0xC3, 0x28])), Is.EqualTo(WsCloseCode.InvalidText));
        Assert.That(FailCode(Frame(0x81, [0xED, 0xA0, 0x80])), Is.EqualTo(WsCloseCode.InvalidText), "UTF-16 surrogate");
        Assert.That(FailCode(Frame(0x81, [0x61, 0xE2, 0x82])), Is.EqualTo(WsCloseCode.InvalidText), "truncated at the end of the message");
    }

    [Test]
    public void Invalid_utf8_fails_at_the_fragment_not_at_the_end_of_the_message()
    {
        using var reader = new WsFrameReader();
        Feed(reader, Frame(0x01, [0x61, 0xE2, 0x82])); // valid so far: a cut euro sign
        var e = Assert.Throws<WebSocketProtocolException>(() => Feed(reader, Frame(0x00, [0x28])));
        Assert.That(e!.CloseCode, Is.EqualTo(WsCloseCode.InvalidText));
    }

    [Test]
    public void Close_with_a_one_byte_payload_is_1002() => Assert.That(FailCode(Frame(0x88, [0x03])), Is.EqualTo(P));

    [Test]
    public void Invalid_close_codes_are_1002([Values(0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535)] int code)
        => Assert.That(FailCode(Frame(0x88, [(byte)(code >> 8), (byte)code])), Is.EqualTo(P));

    [Test]
    public void Every_close_code_is_classified_as_rfc_6455_section_7_4_says()
    {
        var misclassified = Enumerable.Range(0, 65536).Where(code =>
            WsFrameReader.IsValidCloseCode(code) != code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999));
        Assert.That(misclassified, Is.Empty);
        // Through the reader: every code the RFC reserves below 3000, and the edges of the valid ranges.
        var reserved = new[] { 0, 999, 1004, 1005, 1006, 1015, 5000, 65535 }.Concat(Enumerable.Range(1016, 2999 - 1016 + 1));
        foreach (var code in reserved)
            Assert.That(FailCode(Frame(0x88, [(byte)(code >> 8), (byte)code])), Is.EqualTo(P), $"code {code}");
        foreach (var code in new[] { 1000, 1003, 1007, 1014, 3000, 4999 })
        {
            using var reader = new WsFrameReader();
            Assert.That(Feed(reader, Frame(0x88, [(byte)(code >> 8), (byte)code])).Single().CloseCode, Is.EqualTo(code));
        }
    }

    [Test]
    public void Close_reason_with_invalid_utf8_is_1007()
        => Assert.That(FailCode(Frame(0x88, [0x03, 0xE8, 0xFF])), Is.EqualTo(WsCloseCode.InvalidText));

    [Test]
    public void Oversize_frame_is_1009_before_its_payload_arrives()
    {
        using var reader = new WsFrameReader(maxMsgSize: 1000);
        var e = Assert.Throws<WebSocketProtocolException>(() => reader.TryRead(new byte[] { 0x82, 0x7E, 0x03, 0xE9 }, out _, out _));
        Assert.That(e!.CloseCode, Is.EqualTo(WsCloseCode.MessageTooBig));
        using var exact = new WsFrameReader(maxMsgSize: 1000);
        Assert.That(Feed(exact, Frame(0x82, new byte[1000])).Single().Data.Length, Is.EqualTo(1000));
    }

    [Test]
    public void Oversize_fragmented_message_is_1009()
        => Assert.That(FailCode(Concat(Frame(0x02, new byte[600]), Frame(0x80, new byte[401])), maxMsgSize: 1000), Is.EqualTo(WsCloseCode.MessageTooBig));

    [Test]
    public void Default_limit_is_4_MiB_and_zero_disables_it()
    {
        Assert.That(FailCode(Frame(0x82, new byte[4 * 1024 * 1024 + 1])), Is.EqualTo(WsCloseCode.MessageTooBig));
        using var reader = new WsFrameReader(maxMsgSize: 0);
        Assert.That(Feed(reader, Frame(0x82, new byte[4 * 1024 * 1024 + 1]), 65536).Single().Data.Length, Is.EqualTo(4 * 1024 * 1024 + 1));
    }

    [Test]
    public void With_deflate_rsv1_on_a_continuation_or_control_frame_is_1002()
    {
        Assert.That(FailCode(Concat(Frame(0x41, [0xf2, 0x48]), Frame(0xC0, [0xcd])), inflater: new WsInflater()), Is.EqualTo(P));
        Assert.That(FailCode(Frame(0xC9, default), inflater: new WsInflater()), Is.EqualTo(P));
    }

    [Test]
    public void Decompressed_oversize_is_1009()
    {
        using var writer = new WsFrameWriter(new WsDeflater());
        var frames = ClientFrames(writer, WsMsgType.Binary, new byte[100_000]);
        Assert.That(frames.Length, Is.LessThan(1000), "zeros compress well");
        Assert.That(FailCode(frames, maxMsgSize: 50_000, inflater: new WsInflater()), Is.EqualTo(WsCloseCode.MessageTooBig));
    }

    [Test]
    public void Garbage_deflate_data_is_1007()
        => Assert.That(FailCode(Frame(0xC2, [0xFF, 0xFF, 0xFF, 0xFF]), inflater: new WsInflater()), Is.EqualTo(WsCloseCode.InvalidText));
}
