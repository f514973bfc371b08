namespace RxHttp;

/// <summary>The next step of a pipeline: a cold observable that sends the request once per subscription.</summary>
public delegate IObservable<ClientResponse> RequestHandler(ClientRequest request);
