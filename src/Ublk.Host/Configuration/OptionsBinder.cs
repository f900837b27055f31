using Microsoft.Extensions.Configuration;

namespace S3Block.Ublk.Configuration;

/// <summary>Binds a section to an options class, turning binder failures into a line that names the key.</summary>
internal static class OptionsBinder
{
    public static T Bind<T>(IConfiguration configuration, string section)
        where T : new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationProblemException($"{section}: {Describe(e)}");
        }

        return options;
    }

    private static string Describe(InvalidOperationException e)
    {
        // The binder says "Failed to convert configuration value at 'Store:S3:MaxConcurrentRequests' to type ..."
        // or lists unknown keys; both already name the key.
        var inner = e.InnerException is null ? "" : $" ({e.InnerException.Message})";
        return e.Message.ReplaceLineEndings(" ") + inner;
    }
}
