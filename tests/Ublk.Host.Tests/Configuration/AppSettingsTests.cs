using System.Collections;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using S3Block.Cache.Chunks;
using S3Block.Cache.Journal;
using S3Block.ObjectStore;
using S3Block.Ublk.Cli;
using S3Block.Ublk.Configuration;
using S3Block.Ublk.Daemon;
using S3Block.Ublk.Metrics;
using S3Block.Ublk.Tests.Metrics;
using S3Block.Volume;

namespace S3Block.Ublk.Tests.Configuration;

/// <summary>The shipped appsettings.json documents every option with the default the code uses.</summary>
public sealed class AppSettingsTests
{
    /// <summary>Each configuration section and the class it binds to.</summary>
    public static TheoryData<string, Type> Sections => new()
    {
        { StoreOptions.Section, typeof(StoreOptions) },
        { VolumeOptions.Section, typeof(VolumeOptions) },
        { "Journal", typeof(JournalOptions) },
        { "Cache", typeof(ChunkCacheOptions) },
        { DeviceSettings.Section, typeof(DeviceSettings) },
        { DaemonOptions.Section, typeof(DaemonOptions) },
        { MetricsOptions.Section, typeof(MetricsOptions) },
    };

    /// <summary>Keys whose shipped value is not the class's initializer, because the daemon decides when it is empty.</summary>
    private static readonly Dictionary<string, object?> ShippedOtherwise = new(StringComparer.Ordinal)
    {
        ["Cache:Folder"] = "", // empty: <Daemon:StateDirectory>/<volume>/cache (DaemonSettings)
    };

    private static string FilePath => Path.Combine(MetricsTools.RepoRoot, "appsettings.json");

    [Theory]
    [MemberData(nameof(Sections))]
    public void EveryPropertyIsThereWithTheDefaultTheCodeUses(string section, Type type)
    {
        var keys = JsonKeys();
        var configuration = new ConfigurationBuilder().AddJsonFile(FilePath).Build();
        var bound = typeof(OptionsBinder).GetMethod(nameof(OptionsBinder.Bind))!.MakeGenericMethod(type)
            .Invoke(null, [configuration, section]);
        var defaults = Activator.CreateInstance(type, nonPublic: true);

        var leaves = Leaves(section, type).ToList();
        Assert.NotEmpty(leaves);
        foreach (var (key, path) in leaves)
        {
            Assert.True(keys.Contains(key), $"appsettings.json lacks {key}");
            var expected = ShippedOtherwise.TryGetValue(key, out var shipped) ? shipped : Read(defaults, path);
            Assert.True(Equals(expected, Read(bound, path)), $"{key}: appsettings.json gives '{Read(bound, path)}', the code's default is '{expected}'");
        }

        var extra = keys.Where(k => k.StartsWith(section + ":", StringComparison.Ordinal))
            .Except(leaves.Select(l => l.Key), StringComparer.Ordinal).ToList();
        Assert.True(extra.Count == 0, $"appsettings.json has keys no option reads: {string.Join(", ", extra)}");
    }

    [Fact]
    public void EverySectionIsCoveredAndLoggingIsThere()
    {
        var sections = JsonKeys().Select(k => k.Split(':')[0]).ToHashSet(StringComparer.Ordinal);
        var covered = Sections.Select(row => (string)row.Data.Item1).Append("Logging").ToHashSet(StringComparer.Ordinal);

        Assert.Equal(covered.Order(StringComparer.Ordinal), sections.Order(StringComparer.Ordinal));
        Assert.Contains("Logging:LogLevel:Default", JsonKeys());
    }

    [Fact]
    public void TheShippedFileAloneMakesValidDaemonSettingsWithThePerVolumeCacheFolder()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(FilePath).Build();

        var settings = DaemonSettings.Load(new CommandContext(configuration, TextWriter.Null), "vol1", forceTakeover: false);

        Assert.Equal(settings.Daemon.DefaultCacheFolder, settings.Cache.Folder);
        Assert.Equal("vol1", settings.Daemon.Volume);
    }

    /// <summary>Every settable property, nested option classes flattened, as ("Section:A:B", property path).</summary>
    private static IEnumerable<(string Key, PropertyInfo[] Path)> Leaves(string prefix, Type type)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true })
            {
                continue; // computed (e.g. DaemonOptions.JournalDirectory): not configuration
            }

            var key = $"{prefix}:{property.Name}";
            var propertyType = property.PropertyType;
            if (propertyType.IsClass && propertyType != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(propertyType))
            {
                foreach (var (childKey, childPath) in Leaves(key, propertyType))
                {
                    yield return (childKey, [property, .. childPath]);
                }
            }
            else
            {
                yield return (key, [property]);
            }
        }
    }

    private static object? Read(object? target, PropertyInfo[] path) =>
        path.Aggregate(target, (current, property) => current is null ? null : property.GetValue(current));

    /// <summary>Every key in the file (comments allowed, as the configuration's JSON provider allows them), nulls included.</summary>
    private static HashSet<string> JsonKeys()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(FilePath), new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        });
        var keys = new HashSet<string>(StringComparer.Ordinal);
        Collect(document.RootElement, null, keys);
        return keys;
    }

    private static void Collect(JsonElement element, string? prefix, HashSet<string> keys)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                Collect(property.Value, prefix is null ? property.Name : $"{prefix}:{property.Name}", keys);
            }
        }
        else if (prefix is not null)
        {
            keys.Add(prefix);
        }
    }
}
