using System.Net;
using S3Block.ObjectStore;
using S3Block.ObjectStore.S3;

namespace S3Block.Tests.ObjectStore;

public sealed class S3ErrorClassifierTests
{
    [Theory]
    [InlineData(404, "NoSuchKey", false, ObjectStoreErrorKind.NotFound)]
    [InlineData(404, null, false, ObjectStoreErrorKind.NotFound)]
    [InlineData(404, "NoSuchBucket", false, ObjectStoreErrorKind.Permanent)]
    [InlineData(412, "PreconditionFailed", true, ObjectStoreErrorKind.PreconditionFailed)]
    [InlineData(409, "ConditionalRequestConflict", true, ObjectStoreErrorKind.PreconditionFailed)]
    [InlineData(416, "InvalidRange", false, ObjectStoreErrorKind.InvalidRange)]
    [InlineData(500, "UnknownError", true, ObjectStoreErrorKind.PreconditionFailed)]
    [InlineData(500, "InternalError", false, ObjectStoreErrorKind.Transient)]
    [InlineData(503, "SlowDown", false, ObjectStoreErrorKind.Transient)]
    [InlineData(429, null, false, ObjectStoreErrorKind.Transient)]
    [InlineData(400, "RequestTimeout", false, ObjectStoreErrorKind.Transient)]
    [InlineData(403, "InvalidAccessKeyId", false, ObjectStoreErrorKind.Permanent)]
    [InlineData(403, "SignatureDoesNotMatch", false, ObjectStoreErrorKind.Permanent)]
    [InlineData(403, "ExpiredToken", false, ObjectStoreErrorKind.Transient)]
    [InlineData(400, "InvalidArgument", false, ObjectStoreErrorKind.Permanent)]
    public void Status_and_code_map_to_the_right_kind(int status, string? code, bool conditionalPut, ObjectStoreErrorKind expected)
    {
        Assert.Equal(expected, S3ErrorClassifier.ClassifyStatus((HttpStatusCode)status, code, conditionalPut));
    }

    [Fact]
    public void Connection_failures_are_transient()
    {
        var e = S3ErrorClassifier.Classify(new HttpRequestException("Connection refused"), "GET", "k", conditionalPut: false);

        Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
    }
}
