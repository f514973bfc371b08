using System.Text;
using NUnit.Framework;

namespace RxHttp.Tests.Content;

/// <summary>Form bodies are recognised by type tests, not reflection (they must work under NativeAOT).</summary>
public class FormPairsTests
{
    private static string Form(object data) => ((FormUrlEncodedPayload)Payload.From(data)).ToString();

    [Test]
    public void Lists_of_pairs_with_common_value_types_are_forms()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Form(new List<KeyValuePair<string, int>> { new("a", 1), new("a", 2) }), Is.EqualTo("a=1&a=2"));
            Assert.That(Form(new[] { new KeyValuePair<string, object?>("x", 1.5), new("y", null) }), Is.EqualTo("x=1.5&y="));
            Assert.That(Form(new[] { new KeyValuePair<string, string[]>("k", new[] { "a", "b" }) }), Is.EqualTo("k=a&k=b"));
            Assert.That(Form(new Dictionary<string, Guid> { ["g"] = Guid.Empty }), Is.EqualTo("g=00000000-0000-0000-0000-000000000000"));
            Assert.That(Form(new List<Tuple<string, int>> { Tuple.Create("t", 3) }), Is.EqualTo("t=3"));
            Assert.That(Form(new SortedList<string, bool> { ["b"] = true }), Is.EqualTo("b=true"));
        });
    }

    [Test]
    public void Empty_lists_are_empty_forms_only_when_their_element_type_is_a_pair()
    {
        Assert.That(Form(new List<(string, string)>()), Is.EqualTo(""));
        Assert.That(Form(Array.Empty<KeyValuePair<string, string>>()), Is.EqualTo(""));
        Assert.Throws<ArgumentException>(() => Payload.From(new List<int>()));
    }

    [Test]
    public void A_list_of_pairs_whose_values_cannot_be_read_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => Payload.From(new List<KeyValuePair<string, Guid>> { new("g", Guid.Empty) }));
        Assert.That(e!.Message, Does.Contain("Guid values cannot be read"));
    }

    [Test]
    public async Task A_form_with_a_file_among_its_values_is_multipart_as_in_aiohttp()
    {
        // aiohttp's data={"title": "t", "doc": open(...)} goes through FormData: multipart, the file's bytes sent.
        var file = new FileInfo(Path.GetTempFileName());
        try
        {
            await File.WriteAllTextAsync(file.FullName, "file body");
            var form = Payload.From(new Dictionary<string, object> { ["title"] = "t", ["doc"] = file, ["blob"] = new byte[] { 65 } });
            Assert.That(form, Is.TypeOf<FormData>());
            Assert.That(form.ContentType, Does.StartWith("multipart/form-data; boundary="));
            var text = Encoding.UTF8.GetString(await CollectingWriter.WriteAsync(form));
            Assert.That(text, Does.Contain("name=\"title\"\r\n\r\nt\r\n"));
            Assert.That(text, Does.Contain($"name=\"doc\"; filename=\"{file.Name}\"\r\n\r\nfile body\r\n"));
            Assert.That(text, Does.Contain("name=\"blob\"; filename=\"blob\"\r\n\r\nA\r\n"));
            Assert.That(text, Does.Not.Contain(file.DirectoryName!), "the local path is not sent");
            Assert.That(Payload.From(new[] { ("s", (object)new MemoryStream("S"u8.ToArray())) }), Is.TypeOf<FormData>());
        }
        finally
        {
            file.Delete();
        }
    }

    [Test]
    public void A_tuple_with_a_null_name_is_rejected()
    {
        Assert.Throws<ArgumentNullException>(() => Payload.From(new List<(string?, string)> { (null, "v") }));
    }
}
