using RxHttp;
using RxHttp.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers RxHttp sessions in an <see cref="IServiceCollection"/> (in this namespace, as AddHttpClient is, so no extra using is needed).</summary>
public static class RxHttpServiceCollectionExtensions
{
    /// <summary>
    /// Registers the default session: <see cref="ClientSession"/> itself resolves to it (a singleton, closed with the
    /// container), and <see cref="IClientSessionFactory"/> gives it as <c>GetSession("")</c>.
    /// </summary>
    /// <returns>The options builder, to <c>.Bind(configuration.GetSection("RxHttp"))</c> or <c>.Configure(…)</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="configure"/> sets invalid values.</exception>
    public static OptionsBuilder<RxHttpSessionOptions> AddRxHttp(this IServiceCollection services, Action<RxHttpSessionOptions>? configure = null)
    {
        var builder = services.AddRxHttp(Microsoft.Extensions.Options.Options.DefaultName, configure ?? (_ => { }));
        services.TryAddSingleton(sp => sp.GetRequiredService<IClientSessionFactory>().GetSession(Microsoft.Extensions.Options.Options.DefaultName));
        return builder;
    }

    /// <summary>
    /// Registers a named session (<c>services.AddRxHttp("github", o => { o.BaseUrl = "https://api.github.com/"; })</c>),
    /// resolved with <see cref="IClientSessionFactory.GetSession"/>. Settings are validated when registered (for
    /// <paramref name="configure"/>), when the host starts and when the session is first made (for bound configuration).
    /// </summary>
    /// <returns>The options builder, to <c>.Bind(configuration.GetSection("RxHttp:github"))</c> or <c>.Configure(…)</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="configure"/> sets invalid values.</exception>
    public static OptionsBuilder<RxHttpSessionOptions> AddRxHttp(this IServiceCollection services, string name, Action<RxHttpSessionOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(configure);

        // Fail here, at configuration time, for what the delegate alone decides.
        var probe = new RxHttpSessionOptions();
        configure(probe);
        if (probe.Problems() is { Count: > 0 } problems)
            throw new ArgumentException($"RxHttp session '{name}': {string.Join(" ", problems)}", nameof(configure));

        var names = (RegisteredNames?)services.FirstOrDefault(d => d.ServiceType == typeof(RegisteredNames))?.ImplementationInstance;
        if (names is null)
        {
            names = new RegisteredNames();
            services.AddSingleton(names);
        }
        names.Add(name);
        services.AddOptions();
        services.TryAddSingleton<IClientSessionFactory, ClientSessionFactory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RxHttpSessionOptions>, RxHttpSessionOptionsValidator>());
        return services.AddOptions<RxHttpSessionOptions>(name).Configure(configure).ValidateOnStart();
    }
}

internal sealed class RxHttpSessionOptionsValidator : IValidateOptions<RxHttpSessionOptions>
{
    public ValidateOptionsResult Validate(string? name, RxHttpSessionOptions options) =>
        options.Problems() is { Count: > 0 } problems
            ? ValidateOptionsResult.Fail(problems.Select(p => $"RxHttp session '{name}': {p}"))
            : ValidateOptionsResult.Success;
}
