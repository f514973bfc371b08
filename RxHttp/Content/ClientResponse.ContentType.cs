namespace RxHttp;

/// <summary>Whether the Content-Type is the JSON one a reader expects (its <c>+json</c> forms included), as aiohttp's json() checks.</summary>
public sealed partial class ClientResponse
{
    private bool IsJsonType(string expected)
    {
        var type = ContentType;
        return string.Equals(type, expected, StringComparison.OrdinalIgnoreCase) ||
            (expected == "application/json" && type.StartsWith("application/", StringComparison.Ordinal) && type.EndsWith("+json", StringComparison.Ordinal));
    }
}
