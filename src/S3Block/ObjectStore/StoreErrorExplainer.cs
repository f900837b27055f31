namespace S3Block.ObjectStore;

/// <summary>
/// Turns a store failure that an operator must fix into one line naming the configuration key to look at.
/// </summary>
public static class StoreErrorExplainer
{
    /// <summary>The line, or null when the failure is not a configuration problem.</summary>
    public static string? Explain(ObjectStoreException e, StoreOptions options)
    {
        if (options.Kind != "s3")
        {
            return e.Kind == ObjectStoreErrorKind.Permanent ? $"{StoreOptions.Section}:Local:Path: {e.Message}" : null;
        }

        const string s3 = $"{StoreOptions.Section}:S3";
        var endpoint = options.S3.ServiceUrl.Length > 0 ? options.S3.ServiceUrl : $"AWS {options.S3.Region}";
        return e.ErrorCode switch
        {
            "NoSuchBucket" => $"{s3}:Bucket: bucket '{options.S3.Bucket}' does not exist at {endpoint}",
            "InvalidAccessKeyId" => $"{s3}:AccessKey: the store does not know this access key ({e.ErrorCode})",
            "SignatureDoesNotMatch" => $"{s3}:SecretKey: the store rejected the request signature; the secret key is wrong ({e.ErrorCode})",
            "AccessDenied" => $"{s3}:AccessKey: access denied to bucket '{options.S3.Bucket}' for these credentials ({e.ErrorCode})",
            "NetworkError" => $"{s3}:ServiceUrl: cannot reach {endpoint}: {e.InnerException?.Message ?? e.Message}",
            "AuthorizationHeaderMalformed" => $"{s3}:Region: the store rejected region '{options.S3.Region}' ({e.ErrorCode})",
            "NoCredentials" => $"{s3}:AccessKey: not set, and no AWS credentials were found in the environment, a profile or an instance role",
            _ => null,
        };
    }
}
