namespace RxHttp;

public sealed partial class ClientResponse
{
    /// <summary>
    /// The request's body waited for 100 Continue and this final answer came before any of it was sent or read, so a
    /// body that cannot be sent twice (a pipe, an async sequence) can still follow a 307/308 or answer a challenge.
    /// </summary>
    internal bool RequestBodyUnsent
    {
        get => _extras?.RequestBodyUnsent ?? false;
        init
        {
            if (value) GetExtras().RequestBodyUnsent = true;
        }
    }
}
