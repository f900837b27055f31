using System.Diagnostics.Metrics;

namespace S3Block.Ublk.Metrics;

/// <summary>Building blocks for observable-instrument callbacks: zero, one, or a snapshot-derived measurement.</summary>
internal static class Observations
{
    public static IEnumerable<Measurement<T>> None<T>()
        where T : struct => [];

    public static IEnumerable<Measurement<T>> One<T>(T value, params KeyValuePair<string, object?>[] tags)
        where T : struct => [new Measurement<T>(value, tags)];

    /// <summary>One measurement computed from the source's snapshot, none when there is no snapshot.</summary>
    public static IEnumerable<Measurement<T>> From<TSnapshot, T>(SnapshotSource<TSnapshot> source, Func<TSnapshot, T> value)
        where TSnapshot : class
        where T : struct =>
        source.Get() is { } snapshot ? One(value(snapshot)) : None<T>();

    /// <summary>A tag as instruments take it.</summary>
    public static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}
