global using Microsoft.Reactive.Testing;
