using System.Text.Json.Serialization;

namespace S3Block.Volume;

/// <summary>Source-generated JSON for the volume's small JSON objects (no reflection at run time).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(VolumeDescriptor))]
[JsonSerializable(typeof(LeaseRecord))]
internal sealed partial class VolumeJsonContext : JsonSerializerContext;
