namespace RxHttp;

/// <summary>A received response (placeholder while the foundation lands).</summary>
public sealed partial class ClientResponse
{
}
