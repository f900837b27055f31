using Microsoft.Extensions.Configuration;

namespace S3Block.Ublk.Configuration;

/// <summary>
/// Lets every setting whose key ends in <c>Bytes</c> be written as a size (<c>Journal:CapacityBytes=4GiB</c>): the
/// values are rewritten to plain byte counts before binding, so options classes keep <see cref="long"/> properties.
/// </summary>
internal static class SizeSettings
{
    public static void Normalize(IConfigurationRoot configuration)
    {
        foreach (var (key, value) in configuration.AsEnumerable().ToList())
        {
            if (value is null || !key.EndsWith("Bytes", StringComparison.Ordinal) || long.TryParse(value, out _))
            {
                continue;
            }

            configuration[key] = ByteSize.Parse(value, key).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
