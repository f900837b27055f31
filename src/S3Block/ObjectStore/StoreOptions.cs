using S3Block.ObjectStore.S3;

namespace S3Block.ObjectStore;

/// <summary>Which object store holds the volumes. Bound from the <c>Store</c> configuration section.</summary>
public sealed class StoreOptions
{
    /// <summary>The configuration section these options come from.</summary>
    public const string Section = "Store";

    /// <summary><c>local</c> (default: the embedded store in a folder, no cloud account needed) or <c>s3</c>.</summary>
    public string Kind { get; set; } = "local";

    /// <summary>Settings for <c>Kind = local</c>.</summary>
    public LocalStoreOptions Local { get; set; } = new();

    /// <summary>Settings for <c>Kind = s3</c>.</summary>
    public S3StoreOptions S3 { get; set; } = new();

    /// <summary>The problems with these options, each naming its configuration key.</summary>
    public IEnumerable<string> Validate() => Kind switch
    {
        "local" => Local.Validate($"{Section}:Local"),
        "s3" => S3.Validate($"{Section}:S3"),
        _ => [$"{Section}:Kind: '{Kind}' is not a store kind (use 'local' or 's3')"],
    };
}

/// <summary>The embedded store: objects as files under a folder.</summary>
public sealed class LocalStoreOptions
{
    /// <summary>The folder that holds the objects; relative paths are relative to the working folder.
    /// Default: <c>data/store</c>.</summary>
    public string Path { get; set; } = "data/store";

    public IEnumerable<string> Validate(string section)
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            yield return $"{section}:Path: required (the folder that holds the objects)";
        }
        else if (Path.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
        {
            yield return $"{section}:Path: '{Path}' is not a valid path";
        }
    }
}
